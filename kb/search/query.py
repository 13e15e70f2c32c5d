"""Typed query terms: each typed word is a slot, with the ways it may match.

Like Meilisearch's ``ZeroTypoTerm``/``OneTypoTerm``: an alternative says how
it matches (``exact``, ``synonym``, ``typo`` with its edits), and the last word
being typed also matches as a ``prefix``.
"""

from dataclasses import dataclass, field

EXACT, PREFIX, TYPO, SYNONYM, AMBIGUOUS = "exact", "prefix", "typo", "synonym", "ambiguous"


@dataclass
class Alt:
    """One way a slot can match: terms (all needed), a weight, and why."""

    terms: tuple
    weight: float
    how: str  # exact, typo, synonym, ambiguous (an article's alias that also names something else)
    word: str = ""  # the vocabulary word, for typo corrections
    edits: int = 0


@dataclass
class Slot:
    """One typed word and its alternatives."""

    word: str
    term: str
    alts: list = field(default_factory=list)
    prefix: str = ""  # the typed part, when the word also matches as a prefix
    hits: int = 0  # documents the slot matched, set when scored
    misspelled: bool = False  # the word as typed is a misspelling in the articles

    @property
    def typos(self):
        return [a for a in self.alts if a.how == TYPO]


@dataclass
class Query:
    """The planned query: its slots and whether it is a whole question."""

    text: str
    slots: list
    question: bool = False

    @property
    def content_words(self):
        """Slots that are not stop words."""
        return sum(1 for s in self.slots if s.term)
