"""Did you mean: the typed words with their best correction, as data."""

import html


def corrections(gen, slots):
    """``[(typed word, corrected word)]`` per slot, or None when nothing is corrected.

    A word is corrected when the knowledge base does not know it (or knows it
    only misspelled) and the planner found a typo correction for it.
    """
    pairs = []
    for s in slots:
        typos = s.typos
        unknown = not gen.vocabulary.df(s.word) or s.misspelled
        pairs.append((s.word, typos[0].word if typos and unknown else s.word))
    if all(typed == corrected for typed, corrected in pairs):
        return None
    return pairs


def did_you_mean(pairs):
    """The response's ``did_you_mean``: the corrected query, and as HTML with corrections marked."""
    if pairs is None:
        return None
    return {
        "query": " ".join(c for _, c in pairs),
        "html": " ".join(f"<mark>{html.escape(c)}</mark>" if c != t else html.escape(c) for t, c in pairs),
    }
