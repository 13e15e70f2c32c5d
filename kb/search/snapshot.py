"""One generation opened and turned into arrays: shared, read-only, thread-safe.

A :class:`Snapshot` holds one :class:`~kb.store.reader.IndexReader`.  Whoosh
readers are not safe to use from two threads at once (WHOOSH.md, hazard 1),
and a reader per thread cost ~90 MB each; but scoring runs on kb's own arrays,
so the reader is needed only to fill the posting cache and to fetch stored
fields, and those reads take ``_io``.  Both are cached (cachetools): postings
bounded by the postings they hold, stored fields by document count.
"""

import threading
from pathlib import Path

import numpy as np
from cachetools import FIFOCache

from .. import generations
from ..articles import KINDS
from ..bounded import BoundedLRU
from ..store.reader import NO_POSTINGS, IndexReader
from ..urls import safe_document_urls
from .curate import by_first_term, prepared
from .vocabulary import Synonyms, Vocabulary


class Snapshot:
    """A generation's documents as arrays (kind, article, lengths), postings and stored fields.

    :param field_b: BM25F length normalisation per field (the profile's ``field_b``).
    """

    def __init__(self, reader, field_b, name="", record=None, vocabulary=None, synonyms=None, curation=None, **caches):
        """A snapshot of what ``reader`` holds (any object with :class:`~kb.store.reader.IndexReader`'s methods).

        :param vocabulary: ``{word: documents}``; :param synonyms: the ``synonyms.json`` record;
        :param curation: the ``curation.json`` record (``{"rules": [...]}``, see :mod:`kb.curation`).
        """
        self.name = name
        self.reader = reader
        self.record = record or {}
        self.lease = None
        self._load_documents()
        self._load_lengths(field_b)
        self.vocabulary = Vocabulary(vocabulary or {})
        files = self.record.get("files", {}).values()
        self.synonyms = Synonyms(synonyms or {}, titles=[e["names"][0] for e in files if e.get("names")])
        self.curation = prepared((curation or {}).get("rules", []))
        self.curation_by_term = by_first_term(self.curation)
        self._init_caches(**caches)

    @classmethod
    def open(cls, path, field_b, **caches):
        """Open the generation at ``path`` (a reader lease is held until :meth:`close`)."""
        path = Path(path)
        lease = generations.ReaderLease(path)
        try:
            reader = IndexReader(path)
            try:
                snapshot = cls(
                    reader,
                    field_b,
                    path.name,
                    generations.read_record(path),
                    generations.read_json(path / generations.VOCABULARY, {}),
                    generations.read_json(path / generations.SYNONYMS, {}),
                    generations.read_json(path / generations.CURATION, {}),
                    **caches,
                )
            except Exception:
                reader.close()
                raise
        except Exception:
            lease.release()
            raise
        snapshot.path = path
        snapshot.lease = lease
        return snapshot

    def _init_caches(self, cache_postings=4_000_000, stored_bytes=16 << 20):
        self._io = threading.Lock()
        self._stored = BoundedLRU(stored_bytes)
        # First in, first out (a read changes nothing, so reads need no lock), bounded by postings held.
        self._postings = FIFOCache(cache_postings, getsizeof=lambda value: len(value[0]))
        self._postings_lock = threading.Lock()
        self.active = 0  # requests using this generation now (see manager)
        self.retired = False

    def _load_documents(self):
        reader = self.reader
        n = self.n = reader.doc_count_all()
        self.live = np.zeros(n, dtype=bool)
        self.live[reader.live_doc_ids()] = True
        self.kind = np.full(n, -1, dtype=np.int8)
        for code, kind in enumerate(KINDS):
            self.kind[reader.postings("kind", kind)[0]] = code
        self.slug_of = np.full(n, -1, dtype=np.int32)
        self.slugs = []
        for term in reader.lexicon("slug"):
            self.slug_of[reader.postings("slug", term)[0]] = len(self.slugs)
            self.slugs.append(term)
        self.slug_index = {slug: i for i, slug in enumerate(self.slugs)}
        self.article_of_slug = np.full(len(self.slugs), -1, dtype=np.int64)
        articles = np.flatnonzero((self.kind == 0) & self.live)
        self.article_of_slug[self.slug_of[articles]] = articles
        # Each live section's and FAQ entry's article (-1 for articles themselves
        # and for deleted documents: an old version must not add to the new one).
        self.parent = np.where((self.kind > 0) & self.live, self.article_of_slug[self.slug_of], -1)
        self.children = self.parent >= 0
        self.n_live = int(self.live.sum())
        # Ties rank in one order whatever the build: by slug, then as the article
        # yields its documents (docnums differ between a full and an incremental
        # build, but an article's documents are always written together, in order).
        self.order = np.empty(n, dtype=np.int64)
        self.order[np.lexsort((np.arange(n), self.slug_of))] = np.arange(n)

    def _load_lengths(self, field_b):
        """BM25F length normalisation, one array per field: ``1 - b + b * len / avg``."""
        n = self.n
        # The terms of the short fields, to skip looking up terms they lack
        # (most terms are only in body text; a miss still costs a Whoosh lookup).
        self.field_terms = {f: set(self.reader.lexicon(f)) for f in field_b if f != "body"}
        lengths = {f: self.reader.field_lengths(f, n) for f in field_b}
        self.title_len = lengths["title"].astype(np.int32)
        # An article's body is indexed as its own text only; its whole text is
        # that plus its sections' and FAQ entries' titles and bodies, added up
        # here and per term in similarity (the indexer writes it once).
        lengths["body"] = lengths["body"] + self.to_articles(
            np.flatnonzero(self.children), (lengths["title"] + lengths["body"])[self.children]
        )
        self.norm = {}
        for f, b in field_b.items():
            # Live documents only, summed exactly (float64): equal in every build.
            avg = float(lengths[f][self.live].astype(np.float64).mean()) if self.n_live else 1.0
            self.norm[f] = (1 - b + b * lengths[f] / max(avg, 1e-9)).astype(np.float32)

    def to_articles(self, ids, values):
        """Dense per-document sums of ``values`` of child ``ids``, at their articles."""
        parents = self.parent[ids]
        keep = parents >= 0
        return np.bincount(parents[keep], weights=values[keep], minlength=self.n).astype(np.float32)

    def close(self):
        self.reader.close()
        if self.lease is not None:
            self.lease.release()

    def stored(self, docnum):
        """A document's stored fields (a dict shared by callers: do not change it)."""
        docnum = int(docnum)
        fields = self._stored.get(docnum)
        if fields is None:
            with self._io:
                fields = safe_document_urls(self.reader.stored_fields(docnum))
            self._stored.put(docnum, fields)
        return fields

    def docs_of(self, slug):
        """The live doc numbers of an article and its sections and FAQ entries."""
        i = self.slug_index.get(slug)
        return [] if i is None else np.flatnonzero((self.slug_of == i) & self.live).tolist()

    def docs_of_id(self, doc_id, whole_article=True):
        """The live doc numbers a curation id names: ``slug#anchor`` one entry; ``slug`` the article,
        and with ``whole_article`` its sections and FAQ entries too.  None when nothing has the id."""
        slug, _, anchor = doc_id.partition("#")
        docs = self.docs_of(slug)
        if not anchor and whole_article:
            return docs
        return [d for d in docs if self.stored(d)["id"] == doc_id]

    def postings(self, field, term):
        """``(doc ids, term frequencies)`` of ``term`` in ``field``, cached."""
        if field in self.field_terms and term not in self.field_terms[field]:
            return NO_POSTINGS  # most terms are in body text only: no lookup at all
        key = (field, term)
        try:
            return self._postings[key]
        except KeyError:
            pass
        with self._io:
            value = self.reader.postings(field, term)
        if not len(value[0]):
            # A miss costs no postings, so the bound would never evict it: a
            # visitor's 9,000-letter words would pile up (a miss is cheap to read again).
            return value
        with self._postings_lock:
            try:
                self._postings[key] = value
            except ValueError:
                pass  # one posting list larger than the whole cache: not kept
        return value
