"""A generation's vocabulary: completions, typo corrections, document frequencies, synonyms."""

from bisect import bisect_left

import numpy as np
from rapidfuzz import process as fuzzy
from rapidfuzz.distance import OSA

from ..store.schema import ANALYZER
from ..synonyms import SynonymTable
from ..text import words


def typo_budget(word):
    """Edits allowed for a typed word: none up to 4 letters, 1 up to 8, else 2."""
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


class Vocabulary:
    """The folded words of a generation and the number of documents holding each.

    :param counts: ``{word: documents}`` (the indexer's ``vocabulary.json``).
    """

    def __init__(self, counts):
        self.words = sorted(counts)
        self.word_df = np.array([counts[w] for w in self.words], dtype=np.int32)
        self.by_initial = {}
        for i, w in enumerate(self.words):
            self.by_initial.setdefault(w[0], []).append(i)

    def completions(self, prefix, limit):
        """The ``limit`` most frequent vocabulary words beginning with ``prefix``."""
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

    def df(self, word):
        """Documents holding ``word`` (0 if it is not in the vocabulary)."""
        i = bisect_left(self.words, word)
        return int(self.word_df[i]) if i < len(self.words) and self.words[i] == word else 0


class Synonyms:
    """The synonym groups of a generation: a :class:`SynonymTable` and the phrases for suggest.

    :param record: the indexer's ``synonyms.json``: ``groups`` and ``article_names``.
    :param titles: every article's title (an alias equal to one is ambiguous).
    """

    def __init__(self, record, titles=()):
        groups = [tuple(g) for g in record.get("groups", [])]
        # Phrases of the synonyms file and what each leads to, for suggest().
        self.phrases = sorted(
            {(tuple(words(p)), p, tuple(t for t in targets if t != p)) for sources, targets in groups for p in sources}
        )
        # Names of conditions: every title, every phrase of the synonyms file.
        taken = {tuple(ANALYZER.terms(t)) for t in titles}
        taken |= {tuple(ANALYZER.terms(p)) for sources, targets in groups for p in (*sources, *targets)}
        ambiguous = []
        for title, *aliases in record.get("article_names", []):
            # Other names lead to the title; a variant that contains the title
            # or is contained in it ("Noonan syndrome 3") adds only noise.  A
            # name that is another article's title or in the synonyms file (an
            # "ivf" alias of a heart condition) is ambiguous: that other use wins.
            title_terms = set(ANALYZER.terms(title))
            other = [a for a in aliases if not _nested(set(ANALYZER.terms(a)), title_terms)]
            clear = [a for a in other if tuple(ANALYZER.terms(a)) not in taken]
            if clear:
                groups.append((clear, [title]))
            if len(clear) < len(other):
                ambiguous.append(([a for a in other if a not in clear], [title]))
        self.table = SynonymTable(groups, ANALYZER.terms)
        self.ambiguous = SynonymTable(ambiguous, ANALYZER.terms)

    def matches(self, terms):
        """``[(start, end, alternatives)]`` for the runs of ``terms`` with synonyms."""
        return self.table.matches(terms)

    def ambiguous_matches(self, terms):
        """Like :meth:`matches`, for articles' aliases that also name something else."""
        return self.ambiguous.matches(terms)


def _nested(a, b):
    return a <= b or b <= a
