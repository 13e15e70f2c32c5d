"""What a query highlights: the matcher and hints :func:`kb.snippets.highlight` scans with."""

from ..snippets import highlight as _highlight
from ..store.schema import ANALYZER
from ..text import fold


class Highlighter:
    """Marks a query's words (and the typed part of a prefix) in titles and snippets."""

    def __init__(self, slots):
        exact = set()
        for s in slots:
            for a in s.alts:
                if len(a.terms) == 1:  # a word of a synonym phrase alone ("loss") is no match
                    exact.update(a.terms)
        prefixes = [s.prefix for s in slots if s.prefix]
        self.hints = {fold(t[:3]) for t in exact} | {p[:3] for p in prefixes}

        def match(word):
            """``(characters to mark, what matched)`` for a folded word, ``(0, None)`` if none."""
            term = ANALYZER.term(word)
            if term in exact:
                return len(word), term  # the word, or another form of it: all of it
            for p in prefixes:
                if word.startswith(p):
                    return len(p), p  # a completion: the typed part
            return 0, None

        self.match = match  # a closure: the snippet scan calls it once per word

    def snippet(self, text, size=220):
        """The best window of ``text`` (HTML-escaped) with matches in ``<mark>``."""
        return _highlight(text, self.match, self.hints, size)

    def title(self, text):
        """All of ``text`` with matches marked."""
        return _highlight(text, self.match, self.hints, size=None)
