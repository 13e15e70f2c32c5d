"""Blending a lexical ranking with cosine similarity: pure functions, no index.

Measured by ``bench/semantic_eval.py`` (rerank kb's lexical top 50); the ranking
stage that uses them lives with the ranking rules.  Both blends take the
candidates in lexical order and return the new order as indices into them.
"""

import numpy as np

from ..text import STOP_WORDS, words

RRF_K = 60  # Cormack et al. 2009; Elasticsearch's and OpenSearch's default
QUESTION_WORDS = frozenset("what how why when where which who can is are do does should will could would".split())
DESCRIPTIVE_WORDS = 4  # content words from which a query describes rather than names


def question_like(query):
    """Whether a query is a question or a description (where dense vectors help).

    A question word first ("does it run in families"), or at least
    :data:`DESCRIPTIVE_WORDS` words that are not stop words.  Names, typos and
    fragments ("klinefel", "chlamidia") are not: vectors know no misspellings.

    >>> question_like("can i get pregnant after a miscarriage"), question_like("uterine fibroids")
    (True, False)
    """
    ws = words(query)
    if not ws:
        return False
    return ws[0] in QUESTION_WORDS or sum(w not in STOP_WORDS for w in ws) >= DESCRIPTIVE_WORDS


def _ranks(values):
    """1-based ranks of ``values``, highest first (ties keep the given order)."""
    order = np.argsort(-np.asarray(values, dtype=np.float64), kind="stable")
    ranks = np.empty(len(order), dtype=np.float64)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def rrf_order(cosines, alpha, k=RRF_K):
    """Weighted reciprocal rank fusion of the lexical order and the cosine order.

    ``(1 - alpha) / (k + lexical rank) + alpha / (k + cosine rank)``.

    >>> rrf_order([0.1, 0.9, 0.5], alpha=0.0).tolist(), rrf_order([0.1, 0.9, 0.5], alpha=1.0).tolist()
    ([0, 1, 2], [1, 2, 0])
    """
    n = len(cosines)
    lexical = np.arange(1, n + 1, dtype=np.float64)
    fused = (1 - alpha) / (k + lexical) + alpha / (k + _ranks(cosines))
    return np.argsort(-fused, kind="stable")


def linear_order(scores, cosines, alpha):
    """Linear blend of min-max normalised lexical scores and cosines.

    >>> linear_order([3.0, 2.0, 1.0], [0.1, 0.2, 0.9], alpha=0.6).tolist()
    [2, 0, 1]
    """
    return np.argsort(-(((1 - alpha) * _minmax(scores)) + alpha * _minmax(cosines)), kind="stable")


def _minmax(values):
    values = np.asarray(values, dtype=np.float64)
    span = values.max() - values.min() if len(values) else 0.0
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)
