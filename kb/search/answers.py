"""How sure kb is of a result page, and the answer card for a question a FAQ entry answers."""

import math

from ..store.schema import ANALYZER
from ..text import words
from .results import Answer


def confidence(gen, query, matches, best, profile):
    """``high`` when the best match covers the query (and a title agrees), else ``low``.

    :param best: the best match's doc number (before diversity moved anything), or None.

    An entry is read with its page (``confidence_with_article``): its article's
    words count for coverage and its title for agreement.
    """
    slots = query.slots
    if best is None:
        return "low"
    parent = int(gen.parent[best])
    with_article = profile.confidence_with_article and parent >= 0
    coverage = matches.matched[best] / len(slots)
    if with_article:
        coverage = max(coverage, matches.matched[parent] / len(slots))
    needed = 1.0 if len(slots) <= 2 else profile.confidence_coverage
    if len(slots) > profile.short_query:
        agrees = True  # a whole question: coverage is the test
    else:
        titles = [gen.stored(best)["title"]] + ([gen.stored(parent)["title"]] if with_article else [])
        agreement = max(title_agreement(t, slots) for t in titles)
        agrees = agreement >= (1.0 if len(slots) <= 2 else profile.confidence_agreement)
    return "high" if coverage >= needed and agrees else "low"


def answer_doc(gen, query, matches, ranked, profile):
    """The FAQ entry near the top whose question covers most of the query, or None.

    It must be among the first ``answer_top``, score at least ``answer_score_share``
    of the best, and its question hold ``answer_coverage`` of the query's words.
    """
    if not len(ranked):
        return None
    total, title_hits = matches.total, matches.title_hits
    top_score = total[ranked[0]]
    needed = max(1, math.ceil(profile.answer_coverage * query.content_words))
    faqs = [
        d
        for d in ranked[: profile.answer_top]
        if gen.kind[d] == 2 and total[d] >= profile.answer_score_share * top_score and title_hits[d] >= needed
    ]
    best = sorted(faqs, key=lambda d: -title_hits[d])[:1]
    return best[0] if best else None


def answer_card(hit, stored, highlighter):
    """The :class:`Answer` card for the FAQ entry ``hit``."""
    return Answer(
        id=hit.id,
        slug=hit.slug,
        question=hit.title,
        question_html=hit.title_html,
        answer_html=highlighter.snippet(stored.get("body", ""), size=400),
        url=hit.url,
        article_title=hit.article_title,
    )


def title_agreement(title, slots):
    """The share of typed words that a word of ``title`` spells nearly the same.

    Stemming makes "parking" match "Parkes"; a visitor would not call that a
    match.  Two words agree when they differ only in their last two letters
    (plural, -ing ...), or the title word starts with the typed prefix.
    """
    title_words = words(title)
    agree = 0
    for s in slots:
        w = s.word
        for t in title_words:
            if (s.prefix and t.startswith(s.prefix)) or _common_prefix(w, t) >= max(len(w), len(t)) - 2:
                agree += 1
                break
            if any(a.how != "exact" and (t == a.word or ANALYZER.term(t) in a.terms) for a in s.alts):
                agree += 1
                break
    return agree / len(slots) if slots else 0.0


def _common_prefix(a, b):
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
