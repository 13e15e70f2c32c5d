"""Words, folding and the analysed form of text: one definition for index and query.

Pure Python plus a stemmer function passed in by :mod:`kb.store.schema`, so the
snippet highlighter, the query planner and the indexer all cut text the same way.
"""

import re
import unicodedata

#: A word: letters and digits (no underscores); apostrophes and hyphens split words.
WORD_RE = re.compile(r"[^\W_]+")


class _Fold(dict):
    """A ``str.translate`` table that strips accents, one character for one."""

    def __missing__(self, code):
        base = unicodedata.normalize("NFKD", chr(code))[:1]
        self[code] = base if base.isalnum() else chr(code)
        return self[code]


_FOLD = _Fold()


def fold(text):
    """Lower-case and strip accents, keeping every character's position.

    >>> fold("Café Ménière")
    'cafe meniere'
    """
    text = text.lower()
    return text if text.isascii() else text.translate(_FOLD)


def words(text):
    """The folded words of ``text``, in order.

    >>> words("Hysterosalpingography (HSG), Ménière's")
    ['hysterosalpingography', 'hsg', 'meniere', 's']
    """
    return WORD_RE.findall(fold(text))


#: Words that carry no meaning for search: Whoosh's English list plus the
#: question words visitors type ("what are the symptoms of ...").
STOP_WORDS = frozenset(
    """a an and are as at be by can for from have if in is it may of on or tbd that
    the this to us we when will with yet you your not
    what which who whom whose why how do does did i me my am was were been being
    there these those they them their its has had having about into than then
    so such some any our ours he she his her get""".split()
)


class Analyzer:
    """Maps a folded word to its indexed term (stem), or '' for a stop word.

    >>> from whoosh.lang.porter2 import stem
    >>> a = Analyzer(stem)
    >>> a.terms("What causes recurrent miscarriages?")
    ['caus', 'recurr', 'miscarriag']
    """

    def __init__(self, stem, stop_words=STOP_WORDS, cache_size=500_000):
        self._stem = stem
        self._stop = stop_words
        self._cache = {}
        self._cache_size = cache_size

    def term(self, word):
        """The term of one folded word."""
        term = self._cache.get(word)
        if term is None:
            term = "" if word in self._stop else self._stem(word)
            if len(self._cache) < self._cache_size:
                self._cache[word] = term
        return term

    def terms(self, text):
        """The terms of ``text`` in order, stop words dropped."""
        term = self.term
        return [t for t in map(term, words(text)) if t]
