"""Words, folding and the analysed form of text: one definition for index and query.

Pure Python plus a stemmer function passed in by :mod:`kb.store.schema`, so the
snippet highlighter, the query planner and the indexer all cut text the same way.
"""

import re
import sys
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

    >>> a = Analyzer(lambda word: word.rstrip("s"))  # kb passes Porter2 (kb.store.schema)
    >>> a.terms("What causes recurrent miscarriages?")
    ['cause', 'recurrent', 'miscarriage']
    """

    #: Words longer than this are stemmed but never cached: no article word is
    #: this long, and a visitor's 9,000-letter "word" must not stay in memory.
    MAX_CACHED_WORD = 40

    def __init__(self, stem, stop_words=STOP_WORDS, cache_bytes=24 << 20):
        self._stem = stem
        self._stop = stop_words
        self._cache = {}
        self._cache_bytes = cache_bytes
        self._cached = 0  # bytes the entries take, about (see _entry_bytes)

    def term(self, word):
        """The term of one folded word."""
        term = self._cache.get(word)
        if term is None:
            term = "" if word in self._stop else self._stem(word)
            if len(word) <= self.MAX_CACHED_WORD:
                self._remember(word, term)
        return term

    def _remember(self, word, term):
        size = _entry_bytes(word, term)
        if self._cached + size > self._cache_bytes:
            # Full: start afresh rather than evict one by one (a lock-free dict is
            # what keeps term() cheap); the words in use come back at once.
            self._cache.clear()
            self._cached = 0
        self._cache[word] = term
        self._cached += size

    def terms(self, text):
        """The terms of ``text`` in order, stop words dropped."""
        term = self.term
        return [t for t in map(term, words(text)) if t]


def _entry_bytes(word, term):
    """About what one stem-cache entry costs: two str objects and a dict slot."""
    return sys.getsizeof(word) + sys.getsizeof(term) + 64
