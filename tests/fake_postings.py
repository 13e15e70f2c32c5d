"""An in-memory posting source with :class:`kb.store.reader.IndexReader`'s methods (no index build)."""

from collections import Counter

import numpy as np

from kb.search.profile import RankingProfile
from kb.search.snapshot import Snapshot
from kb.store.schema import ANALYZER

TEXT_FIELDS = ("title", "keywords", "article_title", "summary", "body")


class FakeReader:
    """Documents as dicts (``kind``, ``slug``, text fields); ``deleted`` doc numbers are not live.

    Each text field is indexed as given (the real index indexes an article's
    lead as its body); ``tests/test_store_reader.py`` checks it against a real index.
    """

    def __init__(self, docs, deleted=()):
        self.docs = [{"id": d.get("id", d["slug"]), "url": "/" + d["slug"], **d} for d in docs]
        self.deleted = set(deleted)

    def doc_count_all(self):
        return len(self.docs)

    def live_doc_ids(self):
        return np.array([i for i in range(len(self.docs)) if i not in self.deleted], dtype=np.int64)

    def _terms(self, doc, field):
        value = doc.get(field, "")
        return Counter(ANALYZER.terms(value)) if field in TEXT_FIELDS else Counter([value] if value else [])

    def lexicon(self, field):
        return sorted({t for d in self.docs for t in self._terms(d, field)})

    def field_lengths(self, field, n):
        return np.array([sum(self._terms(d, field).values()) for d in self.docs], dtype=np.float32)

    def postings(self, field, term):
        pairs = [(i, c[term]) for i, d in enumerate(self.docs) if (c := self._terms(d, field))[term]]
        return np.array([i for i, _ in pairs], dtype=np.int64), np.array([f for _, f in pairs], dtype=np.float32)

    def stored_fields(self, docnum):
        return self.docs[docnum]

    def close(self):
        pass


def snapshot(docs, profile=None, vocabulary=None, synonyms=None, deleted=()):
    """A :class:`Snapshot` of ``docs`` (articles first, their entries after, as the indexer writes them)."""
    profile = profile or RankingProfile()
    if vocabulary is None:
        vocabulary = Counter(w for d in docs for w in set(" ".join(d.get(f, "") for f in TEXT_FIELDS).lower().split()))
    return Snapshot(FakeReader(docs, deleted), profile.field_b, "gen-fake", {}, dict(vocabulary), synonyms)
