"""The result types: the one source of the search response's shape.

``GET /search`` answers ``Results.as_dict()``; :mod:`kb.openapi` builds its
response schemas from these dataclasses (their fields and ``SCHEMA_NOTES``).
"""

from dataclasses import asdict, dataclass, field


@dataclass
class Hit:
    """One search result."""

    id: str
    kind: str
    slug: str
    title: str
    url: str
    snippet: str
    score: float
    article_title: str = ""
    title_html: str = ""
    position: int = 0
    children: list = field(default_factory=list)
    explain: dict = None

    def as_dict(self):
        d = asdict(self)
        if self.kind != "faq":
            d.pop("position")
        if self.explain is None:
            d.pop("explain")
        return d


@dataclass
class Results:
    """A page of results and what the query became."""

    query: str
    total: int
    took_ms: float
    limit: int = 10
    offset: int = 0
    hits: list = field(default_factory=list)
    generation: str = ""
    confidence: str = "high"
    answer: dict = None
    did_you_mean: dict = None
    unmatched: list = field(default_factory=list)

    def as_dict(self):
        """The body of ``GET /search`` (and of ``kb search --json``)."""
        return {
            "query": self.query,
            "total": self.total,
            "took_ms": self.took_ms,
            "limit": self.limit,
            "offset": self.offset,
            "generation": self.generation,
            "confidence": self.confidence,
            "answer": self.answer,
            "did_you_mean": self.did_you_mean,
            "unmatched": self.unmatched,
            "results": [h.as_dict() for h in self.hits],
        }
