"""Completions for a search box: article titles, FAQ questions, then synonyms."""

from urllib.parse import urlencode

import numpy as np

from ..text import words
from . import collectors, curate, planner, ranking, scorer
from .highlight import Highlighter
from .results import Suggestion


def suggest(gen, text, typing, limit, profile, rules, today=None):
    """Up to ``limit`` suggestions ``{text, html, kind, slug, url}`` for what is typed.

    Documents a curation rule hides for what is typed (on ``today``) are never suggested.

    Every typed word must match a title or question (the last one as a
    prefix); then phrases of the synonyms file that the typed words begin
    ("high bl" -> "high blood pressure", "hypertension") are offered with the
    rest of their group, linking to the search page for them.
    """
    query = planner.plan(gen, text, profile, typing)
    if not query.slots:
        return []
    query.question = False  # titles are ranked like a search box
    matches = scorer.score(gen, query, profile, fields=("title",), blend=False)
    found = matches.total > 0
    if today is not None and gen.curation:
        found[list(curate.curate(gen, query, today).hidden)] = False
    ids = np.flatnonzero(found)
    candidates = ranking.Candidates(gen, query, matches, profile, ids)
    ranked = ids[collectors.top_k(ranking.sort_keys(candidates, rules), limit * 40, gen.order[ids])]
    ranked = ranked[matches.matched[ranked] == len(query.slots)]
    # Articles before FAQ questions, then score; one suggestion per text.
    ranked = sorted(ranked[: limit * 8], key=lambda d: (gen.kind[d] != 0, -matches.total[d]))
    highlighter = Highlighter(query.slots)
    out, seen = [], set()
    for d in ranked:
        stored = gen.stored(d)
        key = stored["title"].lower()
        if key in seen or gen.kind[d] == 1:
            continue
        seen.add(key)
        out.append(_suggestion(stored["title"], highlighter, stored["kind"], stored["slug"], stored["url"]))
        if len(out) == limit:
            return out
    _add_phrases(gen, words(text), highlighter, out, seen, limit)
    return out


def _add_phrases(gen, typed, highlighter, out, seen, limit):
    """Phrases of the synonyms file that the typed words begin, with the rest of their group."""
    for phrase_words, phrase, targets in gen.synonyms.phrases:
        if not completes(typed, phrase_words):
            continue
        for candidate in (phrase, *targets):
            if len(out) >= limit:
                return
            if candidate.lower() in seen or list(phrase_words) == typed and candidate == phrase:
                continue  # already offered, or exactly what was typed
            seen.add(candidate.lower())
            out.append(_suggestion(candidate, highlighter, "synonym", "", "/?" + urlencode({"q": candidate})))


def _suggestion(text, highlighter, kind, slug, url):
    return Suggestion(text, highlighter.title(text), kind, slug, url).as_dict()


def completes(typed, phrase_words):
    """Whether the typed words begin the phrase, the last one as a prefix."""
    if not typed or len(typed) > len(phrase_words):
        return False
    *whole, last = typed
    return list(phrase_words[: len(whole)]) == whole and phrase_words[len(whole)].startswith(last)
