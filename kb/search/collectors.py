"""Collectors: the best ``k`` of the ranked candidates, and one group per article."""

import numpy as np


def top_k(ranks, top=None, tiebreak=None):
    """Positions of the ``top`` best ranks, best first (all of them when ``top`` is None).

    Only the best are sorted (a partial sort), so a query matching thousands
    of documents costs little more than one matching hundreds.  Every position
    tying with the ``top``-th is kept until ``tiebreak`` (smaller first; the
    snapshot's ``order``: by slug, then place in the article) settles ties.
    """
    if tiebreak is None:
        tiebreak = np.arange(len(ranks))
    if top is not None and len(ranks) > top:
        kth = np.partition(ranks, top - 1)[top - 1]
        best = np.flatnonzero(ranks <= kth)
    else:
        best = np.arange(len(ranks))
    return best[np.lexsort((tiebreak[best], ranks[best]))][:top]


def group_by_article(gen, ranked, needed, per_group=3):
    """``[(head docnum, [child docnums])]``: one group per article, best first.

    The head is the article itself when it is live (even if it ranked below
    its entries); at most ``per_group`` children, in rank order.
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
        groups.append((article if article >= 0 else d, [] if article == d or article < 0 else [d]))
    return groups
