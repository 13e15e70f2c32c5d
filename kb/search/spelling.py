"""Did you mean: the typed words with their best correction, as data."""

from .results import DidYouMean


def did_you_mean(gen, slots):
    """A :class:`DidYouMean` for the slots, or None when no word is corrected.

    A word is corrected when the knowledge base does not know it (or knows it
    only misspelled) and the planner found a typo correction for it.
    """
    pairs = []
    for s in slots:
        typos = s.typos
        unknown = not gen.vocabulary.df(s.word) or s.misspelled
        pairs.append((s.word, typos[0].word if typos and unknown else s.word))
    if all(typed == suggested for typed, suggested in pairs):
        return None
    return DidYouMean(tuple(pairs))
