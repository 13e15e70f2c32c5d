"""Searching the current index generation: ranked hits with highlighted snippets.

The package, in the order a query flows through it (``docs/architecture.md``):

- :mod:`.request`: limits and the checked request; :func:`normalize_query`.
- :mod:`.manager`, :mod:`.snapshot`: the generation served, as arrays; hot swap.
- :mod:`.vocabulary`: completions, typo corrections, document frequencies, synonyms.
- :mod:`.query`, :mod:`.planner`: typed terms (exact, prefix, typo, synonym).
- :mod:`.similarity`: BM25F, with ``explain``.
- :mod:`.scorer`: per-document features (a ``Matches`` object).
- :mod:`.ranking`: the ranking rules; :mod:`.profile`: every constant.
- :mod:`.collectors`: top ``k``, one group per article.
- :mod:`.answers`, :mod:`.spelling`, :mod:`.highlight`, :mod:`.suggest`, :mod:`.explain`.
- :mod:`.engine`: the :class:`Engine` facade; :mod:`.results`: the response types.
"""

from ..articles import KINDS
from .engine import Engine
from .profile import RankingProfile
from .request import MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS, MAX_QUERY_WORDS, MAX_SUGGEST, normalize_query
from .results import Answer, DidYouMean, Hit, Results, Suggestion
from .vocabulary import typo_budget

__all__ = [
    "KINDS",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "MAX_QUERY_CHARS",
    "MAX_QUERY_WORDS",
    "MAX_SUGGEST",
    "Answer",
    "DidYouMean",
    "Engine",
    "Hit",
    "RankingProfile",
    "Results",
    "Suggestion",
    "normalize_query",
    "typo_budget",
]
