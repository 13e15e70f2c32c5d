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


@dataclass(frozen=True)
class DidYouMean:
    """A spelling correction of the query, as data: each typed word and the word suggested for it.

    The web layer (:mod:`kb.presentation`) turns it into the response's
    ``{"query", "html"}`` and the search page's link.
    """

    words: tuple  # ((typed, suggested), ...); typed == suggested where nothing is corrected

    @property
    def query(self):
        """The corrected query, plain text."""
        return " ".join(suggested for _, suggested in self.words)

    def as_dict(self):
        return {"query": self.query, "words": [{"typed": t, "suggested": s} for t, s in self.words]}


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
    did_you_mean: DidYouMean = None
    unmatched: list = field(default_factory=list)

    def as_dict(self):
        """The results as plain data (``GET /search`` answers :func:`kb.presentation.search_body` of it)."""
        return {
            "query": self.query,
            "total": self.total,
            "took_ms": self.took_ms,
            "limit": self.limit,
            "offset": self.offset,
            "generation": self.generation,
            "confidence": self.confidence,
            "answer": self.answer,
            "did_you_mean": self.did_you_mean and self.did_you_mean.as_dict(),
            "unmatched": self.unmatched,
            "results": [h.as_dict() for h in self.hits],
        }
