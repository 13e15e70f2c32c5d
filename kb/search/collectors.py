"""Collectors: the best ``k`` of the ranked candidates, diversity, and one group per article."""

import numpy as np


def top_k(keys, top=None, tiebreak=None):
    """Positions of the ``top`` best candidates by ``keys`` in order, best first (all when ``top`` is None).

    :param keys: one array per ranking rule (:func:`kb.search.ranking.sort_keys`),
        smaller first; ties on every key are settled by ``tiebreak`` (the
        snapshot's ``order``: by slug, then place in the article).

    Only candidates that can reach the page are sorted: a partial sort
    (``np.partition``) per key narrows them to the ``top`` plus the ties of the
    last place, so a query matching thousands of documents costs little more
    than one matching hundreds.
    """
    n = len(tiebreak) if tiebreak is not None else len(keys[0]) if keys else 0
    if tiebreak is None:
        tiebreak = np.arange(n)
    best = np.arange(n) if top is None or n <= top else _contenders(keys, top, n)
    order = np.lexsort([tiebreak[best]] + [k[best] for k in reversed(keys)])  # the last key is the primary one
    return best[order][:top]


def _contenders(keys, top, n):
    """The positions that can be among the ``top`` under ``keys``: sure ones plus every tie of the last place."""
    sure, undecided, need = [], np.arange(n), top
    for k in keys:
        if len(undecided) <= need:
            break
        values = k[undecided]
        kth = np.partition(values, need - 1)[need - 1]
        better = values < kth
        sure.append(undecided[better])
        need -= int(better.sum())
        undecided = undecided[values == kth]
    return np.concatenate([*sure, undecided])


def group_by_article(gen, ranked, needed, per_group=3, hidden=()):
    """``[(head docnum, [child docnums])]``: one group per article, best first.

    The head is the article itself when it is live (even if it ranked below
    its entries) and not ``hidden`` by curation; at most ``per_group``
    children, in rank order.
    """
    groups, index = [], {}
    for d in ranked:
        slug = gen.slug_of[d]
        if slug in index:
            head, children = groups[index[slug]]
            if len(children) < per_group and d != head:
                children.append(d)
            continue
        if len(groups) >= needed:
            continue
        index[slug] = len(groups)
        article = gen.article_of_slug[slug]
        if article in hidden:
            article = -1
        groups.append((article if article >= 0 else d, [] if article == d or article < 0 else [d]))
    return groups


#: What :func:`diversify` did to a document, as ``explain`` says it.
DEFERRED = "deferred: its article already has {n} entries ahead of the next articles (side_entries)"
ARTICLE_FIRST = "placed just before its first entry (question_article_first)"


def diversify(gen, ranked, question, profile, matched):
    """``(ranked reordered, {doc: what was done to it})``.

    On a topic query each article's FAQ entries and sections past the first
    ``side_entries`` move after every other result, in their order: the
    article comes first (its entries' scores are capped below it), one entry
    may follow, but "What are the treatments for X?" for "x" would fill the page
    ahead of other articles on the same condition.  On a question, with
    ``question_article_first``, an article that matched (``matched``: a dense
    bool array) is placed just before its first entry: entries inherit their
    article's score uncapped and would bury the page.
    """
    per_article = None if question else (profile.side_entries if profile.side_entries >= 0 else None)
    article_first = question and profile.question_article_first
    if per_article is None and not article_first:
        return ranked, {}
    seen, placed, moved = {}, set(), {}
    keep, later = [], []
    for d in ranked.tolist():
        parent = int(gen.parent[d])
        if parent < 0:
            if d not in placed:
                placed.add(d)
                keep.append(d)
            continue
        n = seen.get(parent, 0)
        if per_article is not None and n >= per_article:
            later.append(d)
            moved[d] = DEFERRED.format(n=per_article)
            continue
        seen[parent] = n + 1
        if article_first and parent not in placed and matched[parent]:
            placed.add(parent)
            keep.append(parent)
            moved[parent] = ARTICLE_FIRST
        keep.append(d)
    return np.array(keep + later, dtype=np.int64), moved
