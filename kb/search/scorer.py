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
from .query import AMBIGUOUS, EXACT, TYPO
from .similarity import BM25F


@dataclass
class Matches:
    """Dense per-document features of one query over one snapshot."""

    total: np.ndarray  # float32 score: BM25F, parent blend, question prior
    matched: np.ndarray  # int16: typed words matched
    typos: np.ndarray  # int16: typed words matched only through a typo correction
    title_hits: np.ndarray  # int16: typed words found in the title (or their alternatives: title_credit)
    inherited: np.ndarray = None  # float32: the article's score an entry inherited (before blending)
    title_cover: np.ndarray = None  # int16: the title's words that the query's words cover
    alias_hits: np.ndarray = None  # int16: typed words found in the title only through an ambiguous alias


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
    credit = profile.title_credit and not query.question
    title_words = set()  # the terms whose presence in a title counts
    m.alias_hits = np.zeros(n, dtype=np.int16)
    for slot in query.slots:
        best, via_typo = _slot_score(bm25, slot, profile, fields, saturated)
        slot.hits = int(np.count_nonzero(best))
        m.total += best
        m.matched += best > 0
        m.typos += via_typo
        if credit:
            _title_credit(gen, slot, prefix_terms(gen, slot, profile) if slot.prefix else (), m, title_words)
        elif slot.term:
            ids, _ = gen.postings("title", slot.term)
            m.title_hits[ids] += 1
    # How many of a title's words the query's words (and their alternatives) cover.
    if credit:
        m.title_cover = np.zeros(n, dtype=np.int16)
        for t in title_words:
            m.title_cover[gen.postings("title", t)[0]] += 1
    else:
        m.title_cover = m.title_hits
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


def _title_credit(gen, slot, completions, m, title_words):
    """Count ``slot`` in the titles holding the word, a typo correction or synonym
    of it (a phrase needs all its words) or a completion; an ambiguous alias
    alone counts in ``alias_hits`` too."""
    n = gen.n
    in_title = np.zeros(n, dtype=bool)
    via_alias = np.zeros(n, dtype=bool)
    alternatives = [((slot.term,), False)] if slot.term else []
    alternatives += [(a.terms, a.how == AMBIGUOUS) for a in slot.alts if a.how != EXACT]
    alternatives += [((t,), False) for t in completions]
    for terms, ambiguous in alternatives:
        present = np.ones(n, dtype=bool)
        for t in terms:
            has = np.zeros(n, dtype=bool)
            has[gen.postings("title", t)[0]] = True
            present &= has
        if ambiguous:
            via_alias |= present
        else:
            in_title |= present
        title_words.update(terms)
    m.title_hits += in_title | via_alias
    m.alias_hits += via_alias & ~in_title


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
