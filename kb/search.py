"""Searching the current index generation: ranked hits with highlighted snippets.

:class:`Engine` is what the web layer and the CLI hold.  It serves from the
current generation and notices a newly published one within
``reload_seconds``: the new generation is opened and prepared in the
background while requests keep being answered from the old one, then swapped
in; nothing is restarted and no request fails.

How a query is answered
-----------------------
Whoosh holds the index (segments, postings, stored fields).  Scoring is done
here, over posting lists read from Whoosh once per generation and kept as
arrays, with a dense score accumulator per query (22k documents is 88 KB of
floats).  That makes a query's cost proportional to the postings it touches,
where Whoosh's matcher trees spent 60-400 ms walking Python iterators, and it
makes the forgiving parts cheap and bounded:

- **BM25F** across fields: a word's frequency in each field is weighted
  (title/question above body), length-normalised, summed, then saturated once
  (Robertson & Zaragoza's BM25F).  Each query word is a *slot*.
- **Prefix** (search as you type): the last word, unless followed by a space,
  also matches every vocabulary word it begins, as one combined term, so
  ranking does not depend on how many words share the prefix; at most
  :data:`MAX_PREFIX_TERMS` of the most frequent are read.
- **Typos**: a word of 5-8 letters may be one edit away from a vocabulary word,
  9 or more letters two (Damerau-Levenshtein, by rapidfuzz); corrections count
  for less than exact words.
- **Synonyms** from ``articles/synonyms.txt`` and articles' ``synonyms:``.
- **Ranking**: for short queries, documents matching more of the words come
  first, then those needing fewer typo corrections, then the BM25F score; long
  questions rank by score alone.  A strong FAQ match becomes an answer card.
"""

import html
import logging
import math
import re
import threading
import time
import weakref
from bisect import bisect_left
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from rapidfuzz import process as fuzzy
from rapidfuzz.distance import OSA
from whoosh import index as whoosh_index
from whoosh.reading import TermNotFound

from . import generations
from .articles import KINDS, render_html
from .bounded import BoundedLRU
from .errors import BadQuery, IndexMissing, NotFound
from .indexer import SYNONYMS, VOCABULARY
from .snippets import SCAN_CHARS, find_matches, highlight
from .store.schema import ANALYZER, BM25_K1, FIELD_B, FIELD_WEIGHTS
from .synonyms import SynonymTable
from .text import STOP_WORDS, fold, words
from .urls import safe_document_urls

log = logging.getLogger("kb.search")

MAX_QUERY_CHARS = 10_000
MAX_QUERY_WORDS = 32
MAX_LIMIT = 50  # results a page
MAX_OFFSET = 10_000  # results skipped, at most
MAX_SUGGEST = 20  # suggestions, at most
MAX_PREFIX_TERMS = 40
MIN_PREFIX = 2  # letters the last word needs before it also matches as a prefix
PARENT_BLEND = 0.8  # share of an article's score its FAQ entries and sections inherit
# Bonus (x the best score) when the query is exactly an article's title, exactly
# a section's or FAQ question's, or contains a whole title: the article named by
# the query outranks the FAQ entries that inherit its score.
# The third, for a shorter title inside the query ("Diabetes" in "gestational
# diabetes"), was 0.5: dev set ALL +0.019 [+0.008, +0.033] at 0.25 (seed +0.07,
# seed success@1 0.50 -> 0.75), LiveQA tuning half +0.019 (n.s.).
TITLE_BONUS = (1.0, 0.75, 0.25)
# A typed word counts as in a title when a typo correction, completion or
# synonym of it is (not only the word itself): "klinefelter syndr", "endometrail cancer".
TITLE_CREDIT = True
QUESTION_PRIOR = 1.2  # FAQ entries' score factor when the query is a question
QUESTION_WORDS = {
    "what",
    "how",
    "why",
    "when",
    "where",
    "which",
    "who",
    "can",
    "is",
    "are",
    "do",
    "does",
    "should",
    "will",
}
QUESTION_SLOTS = 4  # content words from which a query counts as a question
SHORT_QUERY = 4  # slots; up to this many, more matched words rank first
# Topic queries: FAQ entries and sections of one article ranked ahead of the
# next articles, at most (the rest follow every other match; None: no limit).
SIDE_ENTRIES = 1
# Questions: each article just before its first FAQ entry or section (a page
# before the entries it holds); None: entries per article are not limited.
QUESTION_ARTICLE_FIRST = True
QUESTION_SIDE_ENTRIES = None
WEIGHT_SYNONYM = 0.8
# Confidence "high" needs the best match to cover COVERAGE of the typed words
# (all of them up to 2 words) and, up to SHORT_QUERY words, a title spelling
# AGREEMENT of them nearly as typed; an entry is judged with its article's words
# and title.  Calibrated on the dev set: right answer in the top 3 and "high"
# 87 -> 111 of 129, zero-result queries empty or low 18/20 before and after.
CONFIDENCE_WITH_ARTICLE = True
AGREEMENT = 0.5
COVERAGE = 0.5
# An article's own synonym that is another article's title or a phrase of the
# synonyms file leads to it with this weight, and not as a title word.
AMBIGUOUS_ALIASES = True
WEIGHT_AMBIGUOUS = 0.4
WEIGHT_TYPO = (1.0, 0.35, 0.2)  # by edit distance
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass
class Hit:
    """One search result."""

    id: str
    kind: str
    slug: str
    title: str
    url: str
    snippet: str
    score: float
    article_title: str = ""
    title_html: str = ""
    position: int = 0
    children: list = field(default_factory=list)

    def as_dict(self):
        d = asdict(self)
        if self.kind != "faq":
            d.pop("position")
        return d


@dataclass
class Results:
    """A page of results and what the query became."""

    query: str
    total: int
    took_ms: float
    limit: int = 10
    offset: int = 0
    hits: list = field(default_factory=list)
    generation: str = ""
    confidence: str = "high"
    answer: dict = None
    did_you_mean: dict = None
    unmatched: list = field(default_factory=list)
    cache_hit: bool = field(default=False, compare=False)  # answered from the result cache

    def log_fields(self):
        """What the access log says of this answer (never the query text)."""
        return {"results": self.total, "confidence": self.confidence, "cache_hit": self.cache_hit}

    def as_dict(self):
        """The body of ``GET /search`` (and of ``kb search --json``)."""
        return {
            "query": self.query,
            "total": self.total,
            "took_ms": self.took_ms,
            "limit": self.limit,
            "offset": self.offset,
            "generation": self.generation,
            "confidence": self.confidence,
            "answer": self.answer,
            "did_you_mean": self.did_you_mean,
            "unmatched": self.unmatched,
            "results": [h.as_dict() for h in self.hits],
        }


def normalize_query(q):
    """The query as searched: control characters removed, spaces collapsed.

    :raises BadQuery: the query is longer than :data:`MAX_QUERY_CHARS`.
    """
    if len(q) > MAX_QUERY_CHARS:
        raise BadQuery("q", f"q is {len(q)} characters long; the most is {MAX_QUERY_CHARS}")
    return " ".join(_CONTROL.sub(" ", q).split())


def typo_budget(word):
    """Edits allowed for a typed word: none up to 4 letters, 1 up to 8, else 2."""
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


# -- one generation, prepared for scoring -----------------------------------


class _Prepared:
    """A generation opened and turned into arrays: shared, read-only, thread-safe.

    It holds one Whoosh reader.  Whoosh readers are not safe to use from two
    threads at once (WHOOSH.md, hazard 1), and a reader per thread cost ~90 MB
    each; but scoring runs on kb's own arrays, so the reader is needed only to
    fill the posting cache and to fetch stored fields, and those reads take
    ``_io``.  Both are cached: postings bounded by the postings they hold,
    stored fields by document count.
    """

    def __init__(self, path, cache_postings=4_000_000, stored_bytes=16 << 20):
        self.path = Path(path)
        self.name = self.path.name
        self.lease = generations.ReaderLease(self.path)
        try:
            self.index = whoosh_index.open_dir(self.path)
            self.record = generations.read_record(self.path)
            self.reader = self.index.reader()
            self._load_arrays(self.reader)
            self._load_vocabulary()
        except Exception:
            self.lease.release()
            raise
        self._io = threading.Lock()
        self._stored = BoundedLRU(stored_bytes)
        self._cache = OrderedDict()
        self._cached = 0
        self._cache_limit = cache_postings
        self._cache_lock = threading.Lock()
        self.active = 0  # requests using this generation now
        self.retired = False

    def _load_arrays(self, reader):
        n = self.n = reader.doc_count_all()
        self.live = np.zeros(n, dtype=bool)
        self.live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
        self.kind = np.full(n, -1, dtype=np.int8)
        for code, kind in enumerate(KINDS):
            self.kind[_read_postings(reader, "kind", kind)[0]] = code
        self.slug_of = np.full(n, -1, dtype=np.int32)
        self.slugs = []
        for term in reader.lexicon("slug"):
            ids = _read_postings(reader, "slug", term.decode("utf-8"))[0]
            self.slug_of[ids] = len(self.slugs)
            self.slugs.append(term.decode("utf-8"))
        self.slug_index = {slug: i for i, slug in enumerate(self.slugs)}
        self.article_of_slug = np.full(len(self.slugs), -1, dtype=np.int64)
        articles = np.flatnonzero((self.kind == 0) & self.live)
        self.article_of_slug[self.slug_of[articles]] = articles
        # Each live section's and FAQ entry's article (-1 for articles themselves
        # and for deleted documents: an old version must not add to the new one).
        self.parent = np.where((self.kind > 0) & self.live, self.article_of_slug[self.slug_of], -1)
        self.n_live = int(self.live.sum())
        # Ties rank in one order whatever the build: by slug, then as the article
        # yields its documents (docnums differ between a full and an incremental
        # build, but an article's documents are always written together, in order).
        self.order = np.empty(n, dtype=np.int64)
        self.order[np.lexsort((np.arange(n), self.slug_of))] = np.arange(n)
        # The terms of the short fields, to skip looking up terms they lack
        # (most terms are only in body text; a miss still costs a Whoosh lookup).
        self.field_terms = {f: {t.decode("utf-8") for t in reader.lexicon(f)} for f in FIELD_WEIGHTS if f != "body"}
        # BM25F length normalisation, one array per field: 1 - b + b * len / avg
        lengths = {
            f: np.fromiter((reader.doc_field_length(d, f) or 0 for d in range(n)), dtype=np.float32, count=n)
            for f in FIELD_B
        }
        self.title_len = lengths["title"].astype(np.int32)
        # An article's body is indexed as its own text only; its whole text is
        # that plus its sections' and FAQ entries' titles and bodies, added up
        # here and per term in term_weights (the indexer writes it once).
        self.children = self.parent >= 0
        lengths["body"] = lengths["body"] + self._to_articles(
            np.flatnonzero(self.children), (lengths["title"] + lengths["body"])[self.children]
        )
        self.norm = {}
        for f, b in FIELD_B.items():
            # Live documents only, summed exactly (float64): equal in every build.
            avg = float(lengths[f][self.live].astype(np.float64).mean()) if self.n_live else 1.0
            self.norm[f] = (1 - b + b * lengths[f] / max(avg, 1e-9)).astype(np.float32)

    def _to_articles(self, ids, values):
        """Dense per-document sums of ``values`` of child ``ids``, at their articles."""
        parents = self.parent[ids]
        keep = parents >= 0
        return np.bincount(parents[keep], weights=values[keep], minlength=self.n).astype(np.float32)

    def _load_vocabulary(self):
        vocab = generations.read_json(self.path / VOCABULARY, {})
        self.words = sorted(vocab)
        self.word_df = np.array([vocab[w] for w in self.words], dtype=np.int32)
        self.by_initial = {}
        for i, w in enumerate(self.words):
            self.by_initial.setdefault(w[0], []).append(i)
        syn = generations.read_json(self.path / SYNONYMS, {})
        groups = [tuple(g) for g in syn.get("groups", [])]
        # Phrases of the synonyms file and what each leads to, for suggest().
        self.phrases = sorted(
            {(tuple(words(p)), p, tuple(t for t in targets if t != p)) for sources, targets in groups for p in sources}
        )
        taken, ambiguous = set(), []  # names of conditions: every title, every synonyms file phrase
        if AMBIGUOUS_ALIASES:
            files = self.record.get("files", {}).values()
            taken = {tuple(ANALYZER.terms(e["names"][0])) for e in files if e.get("names")}
            taken |= {tuple(ANALYZER.terms(p)) for sources, targets in groups for p in (*sources, *targets)}
        for title, *aliases in syn.get("article_names", []):
            # Other names lead to the title; a variant that contains the title
            # or is contained in it ("Noonan syndrome 3") adds only noise, and so
            # A name that is another article's title or in the synonyms file (an
            # "ivf" alias of a heart condition) counts for less (WEIGHT_AMBIGUOUS)
            # and not as a title word: that other use wins.
            title_terms = set(ANALYZER.terms(title))
            other = [a for a in aliases if not _nested(set(ANALYZER.terms(a)), title_terms)]
            clear = [a for a in other if tuple(ANALYZER.terms(a)) not in taken]
            if clear:
                groups.append((clear, [title]))
            if len(clear) < len(other):
                ambiguous.append(([a for a in other if a not in clear], [title]))
        self.synonyms = SynonymTable(groups, ANALYZER.terms)
        self.ambiguous = SynonymTable(ambiguous, ANALYZER.terms)

    def close(self):
        self.reader.close()
        self.index.close()
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

    # -- postings ------------------------------------------------------------

    def field_postings(self, f, term):
        """``(doc ids, term frequencies)`` of ``term`` in field ``f``, cached."""
        key = (f, term)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if f in self.field_terms and term not in self.field_terms[f]:
            return _NO_POSTINGS
        with self._io:
            value = _read_postings(self.reader, f, term)
        ids = value[0]
        if not len(ids):
            # A miss costs no postings, so the bound below would never evict it: a
            # visitor's 9,000-letter words would pile up (a miss is cheap to read again).
            return value
        with self._cache_lock:
            if key not in self._cache:
                self._cache[key] = value
                self._cached += len(ids)
                while self._cached > self._cache_limit and len(self._cache) > 1:
                    _, (old_ids, _) = self._cache.popitem(last=False)
                    self._cached -= len(old_ids)
        return value

    def term_weights(self, term, fields=None):
        """Dense BM25F pseudo-frequency of ``term``: weighted, length-normalised tf."""
        acc = np.zeros(self.n, dtype=np.float32)
        for f, w in FIELD_WEIGHTS.items():
            if fields is not None and f not in fields:
                continue
            ids, tf = self.field_postings(f, term)
            if f == "body":
                tf_all = np.zeros(self.n, dtype=np.float32)
                tf_all[ids] = tf
                for child_field in ("title", "body"):  # an article's whole text
                    cids, ctf = self.field_postings(child_field, term)
                    if len(cids):
                        tf_all += self._to_articles(cids, ctf)
                acc += w * tf_all / self.norm["body"]
            elif len(ids):
                acc[ids] += w * tf / self.norm[f][ids]
        return acc

    def idf(self, df):
        return math.log(1 + (self.n_live - df + 0.5) / (df + 0.5))

    def saturate(self, acc):
        """BM25 score from a pseudo-frequency array: idf * tf (k1+1) / (tf + k1).

        Deleted documents (old versions of edited articles) are masked out
        first: the document frequency counts live documents only, like ``n_live``
        in :meth:`idf`, so an edited word's weight equals a full build's.
        """
        acc = acc * self.live
        df = int(np.count_nonzero(acc))
        if df == 0:
            return acc, 0
        return self.idf(df) * acc * (BM25_K1 + 1) / (acc + BM25_K1), df

    # -- vocabulary ------------------------------------------------------------

    def completions(self, prefix, limit=MAX_PREFIX_TERMS):
        """The most frequent vocabulary words beginning with ``prefix``."""
        lo = bisect_left(self.words, prefix)
        hi = bisect_left(self.words, prefix + "\uffff", lo)
        if hi - lo <= limit:
            return self.words[lo:hi]
        top = np.argpartition(-self.word_df[lo:hi], limit)[:limit]
        return [self.words[lo + i] for i in top]

    def corrections(self, word, max_edits):
        """Vocabulary words within ``max_edits`` of ``word``: ``[(word, edits, df)]``.

        Candidates share the first letter (visitors rarely mistype it) and are
        compared by optimal string alignment distance (a swap is one edit).
        """
        bucket = self.by_initial.get(word[0])
        if not bucket or max_edits == 0:
            return []
        choices = [self.words[i] for i in bucket if abs(len(self.words[i]) - len(word)) <= max_edits]
        found = fuzzy.extract(word, choices, scorer=OSA.distance, score_cutoff=max_edits, limit=8)
        out = []
        for candidate, edits, _ in found:
            if edits == 0:
                continue
            i = bisect_left(self.words, candidate)
            out.append((candidate, int(edits), int(self.word_df[i])))
        return sorted(out, key=lambda c: (c[1], -c[2]))

    def word_df_of(self, word):
        i = bisect_left(self.words, word)
        return int(self.word_df[i]) if i < len(self.words) and self.words[i] == word else 0


def _nested(a, b):
    return a <= b or b <= a


_NO_POSTINGS = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def _read_postings(reader, f, term):
    """All ``(doc ids, term frequencies)`` of a term, read a block at a time.

    Reads Whoosh 2.7's W3 posting blocks directly (whoosh-reloaded is pinned at
    2.7.5): ids and weights come out as arrays instead of one Python call per
    posting.  Deleted documents are included; callers mask them with ``live``.
    """
    btext = term.encode("utf-8") if isinstance(term, str) else term
    ids_parts, tf_parts = [], []
    for leaf, offset in reader.leaf_readers():
        terms = getattr(leaf, "_terms", None)  # an empty index has an EmptyReader
        if terms is None:
            continue
        try:
            m = terms.matcher(f, btext, leaf.schema[f].format)
        except (TermNotFound, KeyError):
            continue
        while m.is_active():
            m._read_ids()
            m._read_weights()
            ids_parts.append(np.asarray(m._ids, dtype=np.int64) + offset)
            tf_parts.append(np.asarray(m._weights, dtype=np.float32))
            m._next_block()
    if not ids_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    return np.concatenate(ids_parts), np.concatenate(tf_parts)


# -- query plans ---------------------------------------------------------------


@dataclass
class _Alt:
    """One way a slot can match: terms (all needed), a weight, and why."""

    terms: tuple
    weight: float
    how: str  # exact, prefix, typo, synonym
    word: str = ""  # the vocabulary word, for typo corrections and prefixes
    edits: int = 0


@dataclass
class _Slot:
    """One typed word and its alternatives."""

    word: str
    term: str
    alts: list = field(default_factory=list)
    prefix: str = ""
    hits: int = 0  # documents the slot matched, set when scored
    misspelled: bool = False  # the word as typed is a misspelling (see _plan)


class Engine:
    """Searches the current generation of the index in ``index_dir``.

    :param reload_seconds: how often a newly published generation is looked
        for.  When above 0, a daemon thread looks every ``reload_seconds``
        without waiting for a request, so the first request after a reindex is
        already answered from the new generation; :meth:`close` stops it.
        Requests look too, at most once per ``reload_seconds`` (0: on every call).
    """

    def __init__(self, index_dir, reload_seconds=1.0, cache_mb=32):
        self.index_dir = Path(index_dir)
        self.reload_seconds = reload_seconds
        # Bounded in bytes (one answer is 1-300 KB); keyed by generation: a new one starts afresh.
        self._results = BoundedLRU(cache_mb * (1 << 20))
        self._lock = threading.Lock()
        self._current = None
        self._checked = 0.0
        self._preparing = None
        self._html_cache = BoundedLRU(16 << 20)  # (generation, slug) -> rendered HTML
        self._failed = None  # the last generation that failed to load (logged once)
        self._stop = threading.Event()
        self._watcher = None
        if reload_seconds > 0:
            # The thread holds the engine weakly: an engine dropped without close() still goes.
            args = (weakref.ref(self), self._stop, reload_seconds)
            self._watcher = threading.Thread(target=Engine._watch, args=args, name="kb-reload", daemon=True)
            self._watcher.start()

    @staticmethod
    def _watch(engine_ref, stop, seconds):
        """Look for a new generation every ``seconds`` until the engine closes or goes."""
        while not stop.wait(seconds):
            engine = engine_ref()
            if engine is None:
                return
            engine._checked = 0.0
            try:
                engine._generation()  # opens the first one, or prepares a newer one
            except Exception:
                pass  # no index yet, or a generation removed under us: look again later
            preparing = engine._preparing
            if preparing is not None:
                preparing.join()
            del engine

    # -- generations -------------------------------------------------------

    def _generation(self):
        """The current generation; a newer one is prepared in the background."""
        now = time.monotonic()
        current = self._current
        if current is not None and now - self._checked < self.reload_seconds:
            return current
        with self._lock:
            self._checked = now
            name = generations.current_name(self.index_dir)
            if self._current is None:
                if name is None:
                    raise IndexMissing(f"no index in {self.index_dir}")
                self._current = _Prepared(self.index_dir / name)
                log.debug("generation loaded", extra={"generation": name})
            elif name is not None and name != self._current.name and self._preparing is None:
                self._preparing = threading.Thread(target=self._prepare, args=(name,), daemon=True)
                self._preparing.start()
            return self._current

    def _prepare(self, name):
        try:
            fresh = _Prepared(self.index_dir / name)
        except Exception:
            fresh = None  # a generation removed under us: the next check retries
            if name != self._failed:  # once per generation, not at every check
                self._failed = name
                log.exception("generation failed to load", extra={"generation": name})
        with self._lock:
            self._preparing = None
            if fresh is None:
                return
            old, self._current = self._current, fresh
            log.info("generation swapped in", extra={"generation": name, "previous": old.name})
            self._html_cache.clear()
            old.retired = True
            self._close_if_unused(old)

    def _close_if_unused(self, gen):
        if gen.retired and gen.active == 0:
            gen.close()

    @contextmanager
    def _use(self):
        """The current generation, kept open until the request is done with it."""
        self._generation()  # raises IndexMissing; may start preparing a newer one
        with self._lock:
            # Read under the lock the swap takes: a generation is closed only when
            # no request holds it, so it cannot close between these two lines.
            gen = self._current
            if gen is None:
                raise IndexMissing(f"no index in {self.index_dir}")
            gen.active += 1
        try:
            yield gen
        finally:
            with self._lock:
                gen.active -= 1
                self._close_if_unused(gen)

    def generation_name(self):
        """The name of the generation being served (cheap: no search is run)."""
        return self._generation().name

    def wait_for_generation(self, name, timeout=10.0):
        """Block until ``name`` is being served (tests and the benchmark use it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._checked = 0.0
            if self._generation().name == name:
                return True
            time.sleep(0.02)
        return False

    def cache_stats(self):
        """The result cache's lookups so far and its size: ``(hits, misses, bytes)``."""
        return self._results.hits, self._results.misses, self._results.bytes

    def close(self):
        """Stop looking for new generations and release every generation (the process is stopping)."""
        self._stop.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join()
        with self._lock:
            if self._current is not None:
                self._current.close()
                self._current = None

    # -- planning ------------------------------------------------------------

    def _plan(self, gen, text, typing=True):
        """Slots for the typed words, with prefix, typo and synonym alternatives.

        :param typing: False when the raw query ended in a space (checked before
            :func:`normalize_query` strips it): then no word is a prefix.
        :returns: ``(slots, is_question)``: a whole question asks for a FAQ answer.
        """
        typed = words(text)[: MAX_QUERY_WORDS * 2]
        question = text.endswith("?") or (bool(typed) and typed[0] in QUESTION_WORDS)
        # The last word is still being typed unless a space follows it; punctuation
        # typed after it ("misca?", "misc*", "recurrent misc,") does not end it.
        ends_in_word = typing and bool(typed)
        slots = []
        for i, word in enumerate(typed):
            term = ANALYZER.term(word)
            is_last = ends_in_word and i == len(typed) - 1
            if not term and not is_last:
                continue
            slot = _Slot(word=word, term=term)
            if term:
                slot.alts.append(_Alt((term,), 1.0, "exact"))
            if is_last and len(word) >= MIN_PREFIX:
                slot.prefix = word
            slots.append(slot)
            if len(slots) == MAX_QUERY_WORDS:
                break
        terms = [s.term for s in slots]
        for start, end, alternatives in gen.synonyms.matches(terms):
            for alt in alternatives:
                slots[start].alts.append(_Alt(alt, WEIGHT_SYNONYM, "synonym"))
                for s in slots[start + 1 : end]:
                    s.alts.append(_Alt(alt, WEIGHT_SYNONYM, "synonym"))
        for start, end, alternatives in gen.ambiguous.matches(terms):
            for alt in alternatives:
                for s in slots[start:end]:
                    s.alts.append(_Alt(alt, WEIGHT_AMBIGUOUS, "ambiguous"))
        for slot in slots:
            df = gen.word_df_of(slot.word)
            if not slot.term or df >= 3:
                continue  # a real word of the knowledge base: no guessing
            found = gen.corrections(slot.word, typo_budget(slot.word))[:3]
            if not found:
                continue
            top_df = max(c[2] for c in found)
            # A word found in a document or two next to a common spelling of it
            # is a misspelling in those documents too: the correction is not
            # counted as a typo then (it ranks like the word as typed).
            slot.misspelled = df <= 2 and top_df >= 20 * max(df, 1)
            for word, edits, cdf in found:
                term = ANALYZER.term(word)
                if term and term != slot.term:
                    weight = WEIGHT_TYPO[edits] * math.sqrt(cdf / top_df)  # the common spelling first
                    slot.alts.append(_Alt((term,), weight, "typo", word, edits))
        return slots, question or len(slots) >= QUESTION_SLOTS

    # -- scoring ---------------------------------------------------------------

    def _score(self, gen, slots, fields=None, blend=True, question=False):
        """Dense arrays: total score, words matched, typo corrections used, title hits."""
        n = gen.n
        total = np.zeros(n, dtype=np.float32)
        matched = np.zeros(n, dtype=np.int16)
        typos = np.zeros(n, dtype=np.int16)
        title_hits = np.zeros(n, dtype=np.int16)
        title_words = set()  # the terms whose presence in a title counts
        alias_hits = np.zeros(n, dtype=np.int16)  # words found in a title only through an ambiguous alias
        saturated = {}

        def alt_score(terms):
            key = terms
            if key not in saturated:
                score = np.zeros(n, dtype=np.float32)
                present = np.ones(n, dtype=bool)
                for t in terms:
                    s, _ = gen.saturate(gen.term_weights(t, fields))
                    score += s
                    present &= s > 0
                # A phrase stands for one typed word: its words' mean, not their sum,
                # so "hypertension" typed outranks its synonym "high blood pressure".
                saturated[key] = score * present / len(terms) if len(terms) > 1 else score
            return saturated[key]

        for slot in slots:
            best = np.zeros(n, dtype=np.float32)
            exact = np.zeros(n, dtype=bool)
            via_typo = np.zeros(n, dtype=bool)
            for alt in slot.alts:
                s = alt_score(alt.terms) * alt.weight
                if alt.how == "typo":
                    via_typo |= (s > 0) & (s > best)
                else:
                    exact |= s > 0
                np.maximum(best, s, out=best)
            prefix_terms = ()
            if slot.prefix:
                completions = [w for w in gen.completions(slot.prefix) if ANALYZER.term(w)]
                prefix_terms = sorted({ANALYZER.term(w) for w in completions} - {slot.term})
                if prefix_terms:
                    acc = np.zeros(n, dtype=np.float32)
                    for t in prefix_terms:
                        acc += gen.term_weights(t, fields)
                    s, _ = gen.saturate(acc)
                    exact |= s > 0
                    np.maximum(best, s * 0.9, out=best)
            via_typo &= ~exact
            if slot.misspelled:
                via_typo[:] = False
            slot.hits = int(np.count_nonzero(best))
            total += best
            matched += best > 0
            typos += via_typo
            if TITLE_CREDIT and not question:
                in_title = np.zeros(n, dtype=bool)
                in_title_alias = np.zeros(n, dtype=bool)  # through an ambiguous alias only
                for terms, ambiguous in _title_alternatives(slot, prefix_terms if slot.prefix else ()):
                    present = np.ones(n, dtype=bool)
                    for t in terms:
                        has = np.zeros(n, dtype=bool)
                        has[gen.field_postings("title", t)[0]] = True
                        present &= has
                    if ambiguous:
                        in_title_alias |= present
                    else:
                        in_title |= present
                    title_words.update(terms)
                title_hits += in_title | in_title_alias
                alias_hits += in_title_alias & ~in_title
            elif slot.term:
                ids, _ = gen.field_postings("title", slot.term)
                title_hits[ids] += 1
        if blend and PARENT_BLEND:
            # A section or FAQ entry shares its article's topic: it inherits part
            # of the article's score, so the entry about *this* condition wins.
            inherited = total[gen.parent]
            inherited[gen.parent < 0] = 0
            total += PARENT_BLEND * inherited * (total > 0)
            if not question:
                # A topic, not a question: an entry never outranks its own article.
                capped = (gen.parent >= 0) & (inherited > 0)
                total[capped] = np.minimum(total[capped], inherited[capped] * 0.999)
        if question and QUESTION_PRIOR != 1.0:
            total *= np.where(gen.kind == 2, QUESTION_PRIOR, 1.0).astype(np.float32)
        total *= gen.live
        # How many of a title's words the query's words (and their alternatives) cover.
        credit = TITLE_CREDIT and not question
        title_cover = np.zeros(n, dtype=np.int16) if credit else title_hits
        for t in title_words if credit else ():
            ids, _ = gen.field_postings("title", t)
            title_cover[ids] += 1
        return total, matched, typos, (title_hits, title_cover, alias_hits)

    def _rank(self, gen, slots, total, matched, typos, title_hits, kind=None, question=False, top=None):
        """``(the best ``top`` doc numbers in order, their scores, every match, the best match)``.

        Only the best are sorted (a partial sort), so a query matching
        thousands of documents costs little more than one matching hundreds.

        A title that is exactly the query (every query word, nothing else)
        gets a bonus, so "noonan syndrome" puts the article above its FAQ
        entries and "symptoms of noonan syndrome" puts that FAQ entry first.
        Outside questions a word's typo correction, completion or synonym in
        the title counts as the word (:data:`TITLE_CREDIT`).
        Short queries that are not questions rank like a site search box: more
        of the typed words matched first, then fewer typo corrections, then score.
        """
        candidates = total > 0
        if kind is not None:
            candidates &= gen.kind == KINDS.index(kind)
        ids = np.flatnonzero(candidates)
        if not len(ids):
            return ids, np.zeros(0), ids, None
        title_hits, title_cover, alias_hits = title_hits
        score = total[ids].astype(np.float64)
        content = sum(1 for s in slots if s.term or (TITLE_CREDIT and not question and s.prefix))
        title_len = gen.title_len[ids]
        covered = (title_cover[ids] >= title_len) & (title_len > 0)  # the whole title is in the query
        exact = covered & (title_hits[ids] == content)  # ... and the query is the title
        bonus = np.where(exact, np.where(gen.kind[ids] == 0, TITLE_BONUS[0], TITLE_BONUS[1]), TITLE_BONUS[2])
        bonus[alias_hits[ids] > 0] = TITLE_BONUS[2]  # named only by an alias that names something else too
        score += np.where(covered, bonus * score.max(), 0.0)
        key = score
        if len(slots) <= SHORT_QUERY and not question:
            key = matched[ids] * 1e6 - typos[ids] * 1e5 + score
        if top is not None and len(ids) > top:
            # Every document tying with the top-th is kept, so ties are settled
            # by gen.order below, not by where they happen to lie.
            kth = np.partition(-key, top - 1)[top - 1]
            best = np.flatnonzero(-key <= kth)
        else:
            best = np.arange(len(ids))
        order = best[np.lexsort((gen.order[ids[best]], -key[best]))][:top]
        ranked = ids[order]
        best = int(ranked[0])  # the best match, wherever diversity puts it
        if kind is None and not question and SIDE_ENTRIES is not None:
            ranked = _diversify(gen, ranked, SIDE_ENTRIES, False)
        elif kind is None and question and (QUESTION_SIDE_ENTRIES is not None or QUESTION_ARTICLE_FIRST):
            ranked = _diversify(gen, ranked, QUESTION_SIDE_ENTRIES, QUESTION_ARTICLE_FIRST, candidates)
        else:
            return ranked, score[order], ids, best
        return ranked, score[np.searchsorted(ids, ranked)], ids, best

    # -- searching ---------------------------------------------------------

    def search(self, q, limit=10, offset=0, kind=None, group=None):
        """Search and return a :class:`Results` page.

        :param q: the visitor's text; anything is accepted.
        :param limit: results per page, 1 to 50.
        :param offset: results to skip.
        :param kind: ``article``, ``section`` or ``faq`` to search one kind only.
        :param group: ``article``: one result per article, its best matching
            sections and FAQ entries as ``children``.
        """
        started = time.perf_counter()
        if not 1 <= limit <= MAX_LIMIT:
            raise BadQuery("limit", f"limit must be between 1 and {MAX_LIMIT}")
        if not 0 <= offset <= MAX_OFFSET:
            raise BadQuery("offset", f"offset must be between 0 and {MAX_OFFSET}")
        if kind is not None and kind not in KINDS:
            raise BadQuery("kind", f"kind must be one of: {', '.join(KINDS)}")
        if group not in (None, "article"):
            raise BadQuery("group", "group must be 'article' (one result per article)")
        text = normalize_query(q)
        typing = not q[-1:].isspace()
        with self._use() as gen:
            key = (gen.name, text, typing, limit, offset, kind, group)
            results = self._results.get(key)
            cache_hit = results is not None
            if results is None:
                results = self._search(gen, text, typing, limit, offset, kind, group)
                self._results.put(key, results)
        return replace(results, took_ms=round((time.perf_counter() - started) * 1000, 2), cache_hit=cache_hit)

    def _search(self, gen, text, typing, limit, offset, kind, group):
        results = Results(query=text, total=0, took_ms=0.0, limit=limit, offset=offset, generation=gen.name)
        slots, question = self._plan(gen, text, typing)
        if not slots:
            results.confidence = "low"  # nothing searchable was typed
        if slots:
            total, matched, typos, title_hits = self._score(gen, slots, question=question)
            # Enough ranked documents for the page (a group of an article can hold
            # dozens of its FAQ entries).
            top = (offset + limit) * (50 if group else 1) + 200
            ranked, scores, matches, best = self._rank(
                gen, slots, total, matched, typos, title_hits, kind, question, top
            )
            score_of = dict(zip(ranked.tolist(), scores.tolist()))
            match, hints = _matcher(slots)
            if group == "article":
                groups = _group(gen, ranked, offset + limit)
                results.total = len(np.unique(gen.slug_of[matches]))
                page = groups[offset : offset + limit]
                for head, children in page:
                    hit = self._hit(gen, head, score_of.get(int(head), total[head]), match, hints)
                    hit.children = [
                        self._hit(gen, c, score_of.get(int(c), total[c]), match, hints).as_dict() for c in children
                    ]
                    results.hits.append(hit)
            else:
                results.total = len(matches)
                for d in ranked[offset : offset + limit]:
                    results.hits.append(self._hit(gen, d, score_of[int(d)], match, hints))
            self._judge(gen, slots, results, ranked, best, total, matched, typos, title_hits[0], match, hints)
        return results

    def _hit(self, gen, docnum, score, match, hints):
        stored = gen.stored(docnum)
        body = stored.get("body") or stored.get("summary") or ""
        if stored["kind"] == "article":
            body = _best_passage(_passages(gen, stored), match, hints) or body
        return Hit(
            id=stored["id"],
            kind=stored["kind"],
            slug=stored["slug"],
            title=stored["title"],
            url=stored["url"],
            snippet=_highlight(body, match, hints),
            score=round(float(score), 4),
            article_title=stored.get("article_title", ""),
            title_html=_highlight(stored["title"], match, hints, size=None),
            position=stored.get("position") or 0,
        )

    def _judge(self, gen, slots, results, ranked, best, total, matched, typos, title_hits, match, hints):
        """Confidence, the answer card, did-you-mean and words that matched nothing."""
        n_slots = len(slots)
        results.unmatched = [s.word for s in slots if not s.hits and s.word not in STOP_WORDS]
        if not len(ranked):
            results.confidence = "low"
        else:
            top = best
            parent = int(gen.parent[top])
            coverage = matched[top] / n_slots
            if CONFIDENCE_WITH_ARTICLE and parent >= 0:
                # an entry is read with its page: the article's words count
                coverage = max(coverage, matched[parent] / n_slots)
            needed = 1.0 if n_slots <= 2 else COVERAGE
            if n_slots > SHORT_QUERY:
                agrees = True  # a whole question: coverage is the test
            else:
                titles = [gen.stored(top)["title"]]
                if CONFIDENCE_WITH_ARTICLE and parent >= 0:
                    titles.append(gen.stored(parent)["title"])
                agrees = max(_title_agreement(t, slots) for t in titles) >= (1.0 if n_slots <= 2 else AGREEMENT)
            results.confidence = "high" if coverage >= needed and agrees else "low"
        # Did you mean: the typed words with their best correction, for words
        # the knowledge base does not know (or knows only misspelled).
        corrected = []
        for s in slots:
            typo_alts = [a for a in s.alts if a.how == "typo"]
            unknown = not gen.word_df_of(s.word) or s.misspelled
            corrected.append(typo_alts[0].word if typo_alts and unknown else s.word)
        if corrected != [s.word for s in slots]:
            results.did_you_mean = {
                "query": " ".join(corrected),
                "html": " ".join(
                    f"<mark>{html.escape(w)}</mark>" if w != s.word else html.escape(w)
                    for w, s in zip(corrected, slots)
                ),
            }
        # The answer card: the FAQ entry near the top whose question covers most
        # of the query (at least 60% of its words).
        if results.confidence == "high" and len(ranked):
            top_score = total[ranked[0]]
            needed = max(1, math.ceil(0.6 * sum(1 for s in slots if s.term)))
            faqs = [
                d for d in ranked[:5] if gen.kind[d] == 2 and total[d] >= 0.6 * top_score and title_hits[d] >= needed
            ]
            for d in sorted(faqs, key=lambda d: -title_hits[d])[:1]:
                hit = self._hit(gen, d, total[d], match, hints)
                stored = gen.stored(d)
                results.answer = {
                    "id": hit.id,
                    "slug": hit.slug,
                    "question": hit.title,
                    "question_html": hit.title_html,
                    "answer_html": _highlight(stored.get("body", ""), match, hints, size=400),
                    "url": hit.url,
                    "article_title": hit.article_title,
                }

    # -- suggestions -------------------------------------------------------------

    def suggest(self, q, limit=8):
        """Completions for a search box: article titles, FAQ questions, synonyms.

        Every typed word must match a title or question (the last one as a
        prefix); then phrases of the synonyms file that the typed words begin
        ("high bl" -> "high blood pressure", "hypertension") are offered with the
        rest of their group, linking to the search page for them.  The typed
        part is highlighted.
        """
        if not 1 <= limit <= MAX_SUGGEST:
            raise BadQuery("limit", f"limit must be between 1 and {MAX_SUGGEST}")
        text = normalize_query(q)
        with self._use() as gen:
            return self._suggest(gen, text, not q[-1:].isspace(), limit)

    def _suggest(self, gen, text, typing, limit):
        slots, _ = self._plan(gen, text, typing)
        if not slots:
            return []
        total, matched, typos, title_hits = self._score(gen, slots, fields=("title",), blend=False)
        ranked, _, _, _ = self._rank(gen, slots, total, matched, typos, title_hits, top=limit * 40)
        ranked = ranked[matched[ranked] == len(slots)]
        # Articles before FAQ questions, then score; one suggestion per text.
        ranked = sorted(ranked[: limit * 8], key=lambda d: (gen.kind[d] != 0, -total[d]))
        match, hints = _matcher(slots)
        out, seen = [], set()
        for d in ranked:
            stored = gen.stored(d)
            key = stored["title"].lower()
            if key in seen or gen.kind[d] == 1:
                continue
            seen.add(key)
            out.append(
                {
                    "text": stored["title"],
                    "html": highlight(stored["title"], match, hints, size=None),
                    "kind": stored["kind"],
                    "slug": stored["slug"],
                    "url": stored["url"],
                }
            )
            if len(out) == limit:
                break
        typed = words(text)
        for phrase_words, phrase, targets in gen.phrases:
            if not _completes(typed, phrase_words):
                continue
            for candidate in (phrase, *targets):
                if len(out) >= limit:
                    return out
                if candidate.lower() in seen or list(phrase_words) == typed and candidate == phrase:
                    continue  # already offered, or exactly what was typed
                seen.add(candidate.lower())
                out.append(
                    {
                        "text": candidate,
                        "html": highlight(candidate, match, hints, size=None),
                        "kind": "synonym",
                        "slug": "",
                        "url": "/?" + urlencode({"q": candidate}),
                    }
                )
        return out

    # -- articles and health ----------------------------------------------

    def article(self, slug):
        """An article's metadata, FAQ entries, sections and rendered HTML.

        :raises NotFound: no article has this slug.
        """
        with self._use() as gen:
            return self._article(gen, slug)

    def _article(self, gen, slug):
        docs = sorted(
            (gen.stored(d) for d in gen.docs_of(slug)),
            key=lambda d: (KINDS.index(d["kind"]), d.get("position") or 0),
        )
        if not docs or docs[0]["kind"] != "article":
            raise NotFound(f"no article with slug {slug!r}")
        head = docs[0]
        # Keyed by generation: a request still on an old generation may store its
        # HTML after a swap, and that must never be served for the new one.
        key = (gen.name, slug)
        html = self._html_cache.get(key)
        if html is None:
            html = render_html(head["markdown"])
            self._html_cache.put(key, html)
        entry = lambda d: {"id": d["id"], "anchor": d["anchor"], "url": d["url"]}  # noqa: E731
        # The source file's path stays private: it is the server's layout, not the article's.
        return {
            **{k: v for k, v in head["meta"].items() if k != "path"},
            "sections": [{**entry(d), "heading": d["title"]} for d in docs if d["kind"] == "section"],
            "faqs": [
                {**entry(d), "question": d["title"], "answer": d["body"], "position": d["position"]}
                for d in docs
                if d["kind"] == "faq"
            ],
            "html": html,
            "generation": gen.name,
        }

    def health(self):
        """The serving generation: its name, build time and document counts."""
        gen = self._generation()
        record = gen.record
        return {
            "status": "ok",
            "generation": gen.name,
            "built_at": record.get("built_at"),
            "counts": record.get("counts", {}),
            "documents": gen.n_live,
            "problems": len(record.get("problems", [])),
            "build_seconds": record.get("build_seconds"),
        }


def _diversify(gen, ranked, per_article, article_first, candidates=None):
    """``ranked`` reordered so that each article's entries (FAQ entries and
    sections) past the first ``per_article`` move after every other result.

    On a topic query the article comes first; one of its FAQ entries may follow
    it, but its other entries ("What are the treatments for X?" for "x") would
    fill the page ahead of other articles on the same condition.  With
    ``article_first`` an article (if it matched: ``candidates``) is placed
    just before its first entry.
    """
    seen, placed = {}, set()
    keep, later = [], []
    for d in ranked.tolist():
        parent = int(gen.parent[d])
        if parent < 0:
            if d not in placed:
                placed.add(d)
                keep.append(d)
            continue
        n = seen.get(parent, 0)
        if per_article is not None and n >= per_article:
            later.append(d)
            continue
        seen[parent] = n + 1
        if article_first and parent not in placed and candidates[parent]:
            placed.add(parent)
            keep.append(parent)
        keep.append(d)
    return np.array(keep + later, dtype=np.int64)


def _title_alternatives(slot, prefix_terms):
    """``[(terms, ambiguous)]`` whose presence in a title counts for ``slot``: the
    word, its typo corrections and synonyms (a phrase needs all its words), its
    completions; ``ambiguous`` for an alias that also names something else."""
    out = [((slot.term,), False)] if slot.term else []
    out += [(a.terms, a.how == "ambiguous") for a in slot.alts if a.how != "exact"]
    out += [((t,), False) for t in prefix_terms]
    return out


def _passages(gen, stored):
    """An article's passages: its lead, then each section's and FAQ answer's text.

    The stored body is these joined with their headings (``kb.articles``); a
    snippet across them would run a FAQ question into the text around it.
    """
    body = stored.get("body") or ""
    children = sorted(
        (gen.stored(d) for d in gen.docs_of(stored["slug"]) if gen.kind[d] > 0),
        key=lambda c: (KINDS.index(c["kind"]), c.get("position") or 0),
    )
    texts = [c.get("body") or "" for c in children]
    tail = "\n".join(f"{c['title']}\n{t}" if t else c["title"] for c, t in zip(children, texts))
    if not children or not body.endswith(tail):
        return [body]  # not the layout expected: the whole text as one passage
    lead = body[: len(body) - len(tail)].strip()
    return [p for p in [lead, *texts] if p.strip()]


def _best_passage(passages, match, hints):
    """The passage with the most distinct matched words, then most matches (up to 4),
    the earliest of equals."""
    best, best_count = (passages[0] if passages else ""), (0, 0)
    for p in passages:
        found = find_matches(p[:SCAN_CHARS], match, hints)
        count = (len({key for _, _, key in found}), min(len(found), 4))
        if count > best_count:
            best, best_count = p, count
    return best


def _completes(typed, phrase_words):
    """Whether the typed words begin the phrase, the last one as a prefix."""
    if not typed or len(typed) > len(phrase_words):
        return False
    *whole, last = typed
    return list(phrase_words[: len(whole)]) == whole and phrase_words[len(whole)].startswith(last)


def _title_agreement(title, slots):
    """The share of typed words that a word of ``title`` spells nearly the same.

    Stemming makes "parking" match "Parkes"; a visitor would not call that a
    match.  Two words agree when they differ only in their last two letters
    (plural, -ing ...), or the title word starts with the typed prefix.
    """
    title_words = words(title)
    agree = 0
    for s in slots:
        w = s.word
        for t in title_words:
            if (s.prefix and t.startswith(s.prefix)) or _common_prefix(w, t) >= max(len(w), len(t)) - 2:
                agree += 1
                break
            if any(a.how != "exact" and (t == a.word or ANALYZER.term(t) in a.terms) for a in s.alts):
                agree += 1
                break
    return agree / len(slots) if slots else 0.0


def _common_prefix(a, b):
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _group(gen, ranked, needed, per_group=3):
    """``[(head docnum, [child docnums])]``: one group per article, best first."""
    groups, index = [], {}
    for d in ranked:
        slug = gen.slug_of[d]
        if slug in index:
            head, children = groups[index[slug]]
            if len(children) < per_group and d != head:
                children.append(d)
            continue
        if len(groups) >= needed:
            continue
        index[slug] = len(groups)
        article = gen.article_of_slug[slug]
        groups.append((article if article >= 0 else d, [] if article == d or article < 0 else [d]))
    return groups


def _matcher(slots, text=None):
    """What the snippet highlighter marks, and the word starts it scans for.

    With ``text``: a typo correction is marked only where the word as typed is
    absent ("what causes" marks "cases" only in a text without "causes").
    """
    typed_here = set()
    if text is not None and any(a.how == "typo" for s in slots for a in s.alts):
        typed_here = set(ANALYZER.terms(text[:SCAN_CHARS]))
    exact = set()
    for s in slots:
        for a in s.alts:
            if a.how == "typo" and s.term in typed_here:
                continue
            if len(a.terms) == 1:  # a word of a synonym phrase alone ("loss") is no match
                exact.update(a.terms)
    prefixes = [s.prefix for s in slots if s.prefix]

    def match(word):
        term = ANALYZER.term(word)
        if term in exact:
            return len(word), term  # the word, or another form of it: all of it
        for p in prefixes:
            if word.startswith(p):
                return len(p), p  # a completion: the typed part
        return 0, None

    hints = {fold(t[:3]) for t in exact} | {p[:3] for p in prefixes}
    match.slots = slots
    return match, hints


def _highlight(text, match, hints, size=220):
    """:func:`highlight` with typo corrections marked only if the typed word is absent from ``text``."""
    slots = getattr(match, "slots", None)
    if slots and any(a.how == "typo" for s in slots for a in s.alts):
        match, hints = _matcher(slots, text)
    return highlight(text, match, hints, size)
