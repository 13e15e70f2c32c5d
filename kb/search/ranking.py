"""Ranking as an ordered list of named rules over the scorer's features.

Each rule gives every candidate document a key; documents are ordered by the
first rule's key, ties by the second's, and so on (``np.lexsort`` in
:func:`kb.search.collectors.top_k`), like Meilisearch's ranking rules.  A rule that does not apply to a query (the
search-box rules for a whole question) is left out of the list for it.

Today's rules, in order (:func:`default_rules`):

1. :class:`Curation` (queries a curation rule matches): pinned documents first, in position order.
2. :class:`WordsMatched` (search-box queries): more typed words matched first.
3. :class:`FewerTypos` (search-box queries): fewer typo corrections first.
4. :class:`Relevance`: the BM25F score, plus a bonus for a title the query names.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass
class Candidates:
    """The documents a query matched and what ranking needs to know about them."""

    gen: object  # the Snapshot (kind, title lengths)
    query: object  # the planned Query
    matches: object  # the scorer's Matches (dense features)
    profile: object  # the RankingProfile
    ids: np.ndarray  # the candidate doc numbers, ascending
    curated: object = None  # the :class:`~kb.search.curate.Curated` rules the query matched, if any

    @property
    def search_box(self):
        """A short query that is not a question ranks like a site search box."""
        return len(self.query.slots) <= self.profile.short_query and not self.query.question

    @cached_property
    def title_bonus(self):
        """Per candidate: the title-bonus factor (0 when the title is not named by the query)."""
        m, ids = self.matches, self.ids
        hits = m.title_hits[ids]
        title_len = self.gen.title_len[ids]
        cover = hits if m.title_cover is None else m.title_cover[ids]
        covered = (cover >= title_len) & (title_len > 0)  # the whole title is in the query
        words = self.query.content_words
        if self.profile.title_credit and not self.query.question:
            words = sum(1 for s in self.query.slots if s.term or s.prefix)  # a stop word's completions count
        exact = covered & (hits == words)  # ... and the query is the title
        first, entry, contained = self.profile.title_bonus
        bonus = np.where(exact, np.where(self.gen.kind[ids] == 0, first, entry), contained)
        if m.alias_hits is not None:
            bonus[m.alias_hits[ids] > 0] = contained  # named only by an alias that names something else too
        return np.where(covered, bonus, 0.0)

    @cached_property
    def score(self):
        """The score shown with each hit: BM25F plus the title bonus (x the best BM25F score)."""
        score = self.matches.total[self.ids].astype(np.float64)
        return score + self.title_bonus * score.max() if len(score) else score


class Rule:
    """A ranking rule: a key per candidate, smaller first, and a value to explain."""

    name = "rule"

    def applies(self, c):
        """Whether the rule ranks this query's candidates."""
        return True

    def values(self, c):
        """The feature per candidate, as a person reads it."""
        raise NotImplementedError

    def key(self, c):
        """The sort key per candidate: smaller ranks first."""
        return self.values(c)

    def explain(self, c, i):
        """The rule's value for candidate ``i`` (a position in ``c.ids``)."""
        value = self.values(c)[i]
        return round(float(value), 4) if isinstance(value, np.floating) else int(value)


class Curation(Rule):
    """Pinned documents first, in position order (queries a curation rule matches)."""

    # The rules of ``articles/curation.yaml`` the query matched (kb.search.curate)
    # pin documents; hidden ones are not candidates at all.  The engine then moves
    # each pinned document to its position (kb.search.curate.place).

    name = "curation"
    UNPINNED = 1 << 30

    def applies(self, c):
        return bool(c.curated)

    def values(self, c):
        pins = c.curated.pins
        return np.array([pins[int(d)][0] if int(d) in pins else self.UNPINNED for d in c.ids], dtype=np.int64)

    def explain(self, c, i):
        pin = c.curated.pins.get(int(c.ids[i]))
        return {"rules": list(c.curated.rules), "pinned": pin[0] if pin else None, "pinned_by": pin[1] if pin else None}


class WordsMatched(Rule):
    """Sorted by decreasing number of typed words matched (search-box queries)."""

    name = "words_matched"

    def applies(self, c):
        return c.search_box

    def values(self, c):
        return c.matches.matched[c.ids]

    def key(self, c):
        return -self.values(c).astype(np.int64)


class FewerTypos(Rule):
    """Sorted by increasing number of words matched only through a typo correction (search-box queries)."""

    name = "typos"

    def applies(self, c):
        return c.search_box

    def values(self, c):
        return c.matches.typos[c.ids]


class Relevance(Rule):
    """Sorted by decreasing score: BM25F (blended, question prior) plus the title bonus."""

    name = "score"

    def values(self, c):
        return c.score

    def key(self, c):
        return -c.score

    def explain(self, c, i):
        bm25f = float(c.matches.total[c.ids[i]])
        return {
            "value": round(float(c.score[i]), 4),
            "bm25f": round(bm25f, 4),
            "title_bonus": round(float(c.score[i]) - bm25f, 4),
        }


def default_rules():
    """Today's ranking rules, in order."""
    return (Curation(), WordsMatched(), FewerTypos(), Relevance())


def sort_keys(candidates, rules):
    """The keys of the rules that apply and tell candidates apart, in rule order (smaller first).

    A key every candidate shares orders nothing and is left out, so a one-word
    query without typos sorts by its score alone.
    """
    if not len(candidates.ids):
        return []
    keys = [r.key(candidates) for r in rules if r.applies(candidates)]
    return [k for k in keys if k.min() != k.max()]


def explain(candidates, rules, i):
    """``{rule name: value}`` for candidate ``i``, the rules that apply, in order."""
    return {r.name: r.explain(candidates, i) for r in rules if r.applies(candidates)}
