"""Collectors: the best ``k`` of the ranked candidates, and one group per article."""

import numpy as np


def top_k(ranks, top=None):
    """Positions of the ``top`` best ranks, best first (all of them when ``top`` is None).

    Only the best are sorted (a partial sort), so a query matching thousands
    of documents costs little more than one matching hundreds.
    """
    if top is not None and len(ranks) > top:
        best = np.argpartition(ranks, top - 1)[:top]
        return best[np.argsort(ranks[best], kind="stable")]
    return np.argsort(ranks, kind="stable")


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
