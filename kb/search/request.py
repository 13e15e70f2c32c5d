"""What a search request may ask for: limits, the query text as searched, validation."""

import re
from dataclasses import dataclass

from ..articles import KINDS
from ..errors import BadQuery

MAX_QUERY_CHARS = 10_000
MAX_QUERY_WORDS = 32
MAX_LIMIT = 50  # results a page
MAX_OFFSET = 10_000  # results skipped, at most
MAX_SUGGEST = 20  # suggestions, at most
GROUPS = ("article",)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def normalize_query(q):
    """The query as searched: control characters removed, spaces collapsed.

    :raises BadQuery: the query is longer than :data:`MAX_QUERY_CHARS`.
    """
    if len(q) > MAX_QUERY_CHARS:
        raise BadQuery("q", f"q is {len(q)} characters long; the most is {MAX_QUERY_CHARS}")
    return " ".join(_CONTROL.sub(" ", q).split())


@dataclass(frozen=True)
class SearchRequest:
    """One checked search: the text as searched and what the page asks for.

    :param typing: False when the raw query ended in a space (then no word is a prefix).
    """

    text: str
    typing: bool = True
    limit: int = 10
    offset: int = 0
    kind: str = None
    group: str = None
    explain: bool = False

    @classmethod
    def parse(cls, q, limit=10, offset=0, kind=None, group=None, explain=False):
        """Check every parameter and normalise ``q``.

        :raises BadQuery: naming the parameter that cannot be honoured.
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise BadQuery("limit", f"limit must be between 1 and {MAX_LIMIT}")
        if not 0 <= offset <= MAX_OFFSET:
            raise BadQuery("offset", f"offset must be between 0 and {MAX_OFFSET}")
        if kind is not None and kind not in KINDS:
            raise BadQuery("kind", f"kind must be one of: {', '.join(KINDS)}")
        if group is not None and group not in GROUPS:
            raise BadQuery("group", "group must be 'article' (one result per article)")
        text = normalize_query(q)
        return cls(text, not q[-1:].isspace(), limit, offset, kind, group, bool(explain))

    @property
    def cache_key(self):
        return (self.text, self.typing, self.limit, self.offset, self.kind, self.group, self.explain)


def check_suggest_limit(limit):
    """:raises BadQuery: ``limit`` is not 1 to :data:`MAX_SUGGEST`."""
    if not 1 <= limit <= MAX_SUGGEST:
        raise BadQuery("limit", f"limit must be between 1 and {MAX_SUGGEST}")
