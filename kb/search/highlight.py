"""What a query highlights: the matcher and hints :func:`kb.snippets.highlight` scans with."""

from ..snippets import SCAN_CHARS
from ..snippets import highlight as _highlight
from ..store.schema import ANALYZER
from ..text import fold
from .query import TYPO


class Highlighter:
    """Marks a query's words (and the typed part of a prefix) in titles and snippets.

    A typo correction is marked only in a text without the word as typed
    ("what causes" marks "cases" only where "causes" is absent).
    """

    def __init__(self, slots):
        self.slots = slots
        self._typos = any(a.how == TYPO for s in slots for a in s.alts)
        self.match, self.hints = _matcher(slots)

    def _for(self, text):
        if not self._typos:
            return self.match, self.hints
        return _matcher(self.slots, set(ANALYZER.terms(text[:SCAN_CHARS])))

    def snippet(self, text, size=220):
        """The best window of ``text`` (HTML-escaped) with matches in ``<mark>``."""
        return _highlight(text, *self._for(text), size)

    def title(self, text):
        """All of ``text`` with matches marked."""
        return _highlight(text, *self._for(text), size=None)


def _matcher(slots, typed_here=frozenset()):
    """``(match, hints)``; typo corrections of the slots whose word is in ``typed_here`` left out."""
    exact = set()
    for s in slots:
        for a in s.alts:
            if a.how == TYPO and s.term in typed_here:
                continue
            if len(a.terms) == 1:  # a word of a synonym phrase alone ("loss") is no match
                exact.update(a.terms)
    prefixes = [s.prefix for s in slots if s.prefix]
    hints = {fold(t[:3]) for t in exact} | {p[:3] for p in prefixes}

    def match(word):
        """``(characters to mark, what matched)`` for a folded word, ``(0, None)`` if none."""
        term = ANALYZER.term(word)
        if term in exact:
            return len(word), term  # the word, or another form of it: all of it
        for p in prefixes:
            if word.startswith(p):
                return len(p), p  # a completion: the typed part
        return 0, None

    return match, hints  # a closure: the snippet scan calls it once per word
