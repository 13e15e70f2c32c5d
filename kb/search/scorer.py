"""From a planned query to per-document features: a :class:`Matches` object.

For every document: the BM25F score (best alternative per slot, summed; the
article's share blended into its entries; the question prior), the number of
typed words it matches, the typo corrections it needed and the typed words
found in its title.  The ranking rules (:mod:`kb.search.ranking`) order
documents by these features; nothing here decides an order.
"""

from dataclasses import dataclass

import numpy as np

from ..store.schema import ANALYZER
from .query import TYPO
from .similarity import BM25F


@dataclass
class Matches:
    """Dense per-document features of one query over one snapshot."""

    total: np.ndarray  # float32 score: BM25F, parent blend, question prior
    matched: np.ndarray  # int16: typed words matched
    typos: np.ndarray  # int16: typed words matched only through a typo correction
    title_hits: np.ndarray  # int16: typed words found in the title
    inherited: np.ndarray = None  # float32: the article's score an entry inherited (before blending)


def score(gen, query, profile, fields=None, blend=True):
    """The :class:`Matches` of ``query``; sets each slot's ``hits``.

    :param fields: score these fields only (suggest scores titles).
    :param blend: let sections and FAQ entries inherit their article's score.
    """
    bm25 = BM25F(gen, profile)
    n = gen.n
    m = Matches(
        total=np.zeros(n, dtype=np.float32),
        matched=np.zeros(n, dtype=np.int16),
        typos=np.zeros(n, dtype=np.int16),
        title_hits=np.zeros(n, dtype=np.int16),
    )
    saturated = {}
    for slot in query.slots:
        best, via_typo = _slot_score(bm25, slot, profile, fields, saturated)
        slot.hits = int(np.count_nonzero(best))
        m.total += best
        m.matched += best > 0
        m.typos += via_typo
        if slot.term:
            ids, _ = gen.postings("title", slot.term)
            m.title_hits[ids] += 1
    if blend and profile.parent_blend:
        _blend_parents(gen, m, profile, query.question)
    if query.question and profile.question_prior != 1.0:
        m.total *= np.where(gen.kind == 2, profile.question_prior, 1.0).astype(np.float32)
    m.total *= gen.live
    return m


def alt_score(bm25, terms, fields, saturated):
    """Dense BM25F score of an alternative's terms (cached in ``saturated`` per query).

    A phrase stands for one typed word: its words' mean, not their sum, so
    "hypertension" typed outranks its synonym "high blood pressure".
    """
    if terms not in saturated:
        n = bm25.gen.n
        total = np.zeros(n, dtype=np.float32)
        present = np.ones(n, dtype=bool)
        for t in terms:
            s, _ = bm25.saturate(bm25.pseudo_frequency(t, fields))
            total += s
            present &= s > 0
        saturated[terms] = total * present / len(terms) if len(terms) > 1 else total
    return saturated[terms]


def prefix_terms(gen, slot, profile):
    """The distinct terms of the prefix's most frequent completions (the typed word's own left out)."""
    completions = [w for w in gen.vocabulary.completions(slot.prefix, profile.max_prefix_terms) if ANALYZER.term(w)]
    return sorted({ANALYZER.term(w) for w in completions} - {slot.term})


def _slot_score(bm25, slot, profile, fields, saturated):
    """``(best score per document over the slot's alternatives, matched only by a typo)``."""
    n = bm25.gen.n
    best = np.zeros(n, dtype=np.float32)
    exact = np.zeros(n, dtype=bool)
    via_typo = np.zeros(n, dtype=bool)
    for alt in slot.alts:
        s = alt_score(bm25, alt.terms, fields, saturated) * alt.weight
        if alt.how == TYPO:
            via_typo |= (s > 0) & (s > best)
        else:
            exact |= s > 0
        np.maximum(best, s, out=best)
    if slot.prefix:
        terms = prefix_terms(bm25.gen, slot, profile)
        if terms:
            acc = np.zeros(n, dtype=np.float32)
            for t in terms:
                acc += bm25.pseudo_frequency(t, fields)
            s, _ = bm25.saturate(acc)
            exact |= s > 0
            np.maximum(best, s * profile.weight_prefix, out=best)
    via_typo &= ~exact
    if slot.misspelled:
        via_typo[:] = False
    return best, via_typo


def _blend_parents(gen, m, profile, question):
    """A section or FAQ entry shares its article's topic: it inherits part of the article's score."""
    inherited = m.total[gen.parent]
    inherited[gen.parent < 0] = 0
    m.inherited = inherited
    m.total += profile.parent_blend * inherited * (m.total > 0)
    if not question:
        # A topic, not a question: an entry never outranks its own article.
        capped = (gen.parent >= 0) & (inherited > 0)
        m.total[capped] = np.minimum(m.total[capped], inherited[capped] * profile.parent_cap)
