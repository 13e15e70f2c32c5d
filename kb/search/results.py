"""The result types: the one source of the search response's shape.

``GET /search`` answers :func:`kb.presentation.search_body` of :class:`Results`;
:mod:`kb.openapi` builds the response schemas from these dataclasses: each
field's type, and its ``metadata`` (``schema``: JSON Schema to add,
``optional``: may be left out, ``json``: the name in the body); a field
without ``schema`` metadata is not part of the body.
"""

import dataclasses
from dataclasses import asdict, dataclass

from ..articles import KINDS
from .request import MAX_LIMIT, MAX_OFFSET

#: HTML in which only <mark> is markup (the schema of snippets and *_html fields).
HTML_MARK = {"type": "string", "description": "HTML in which only `<mark>…</mark>` is markup; all text is escaped."}


def _field(default=dataclasses.MISSING, *, factory=dataclasses.MISSING, optional=False, json=None, **schema):
    meta = {"schema": schema, "optional": optional, "json": json}
    return dataclasses.field(default=default, default_factory=factory, metadata=meta)


@dataclass
class Hit:
    """One search result."""

    id: str = _field(description="`slug` or `slug#anchor`.", examples=["ivf#is-egg-retrieval-painful"])
    kind: str = _field(enum=list(KINDS))
    slug: str = _field()
    title: str = _field(description="Plain text: article title, section heading or FAQ question.")
    url: str = _field(description="Deep link: the article URL, with `#anchor` for sections and FAQs.")
    snippet: str = _field(**HTML_MARK)
    score: float = _field()
    article_title: str = _field("")
    title_html: str = _field("", **HTML_MARK)
    position: int = _field(0, optional=True, description="FAQ entries: 1-based place in the article's FAQ.")
    children: list = _field(factory=list, items={"$ref": "Hit"}, description="Grouped hits of the same article.")
    explain: dict = _field(None, optional=True, ref="Explanation")

    def as_dict(self):
        d = asdict(self)
        if self.kind != "faq":
            d.pop("position")
        if self.explain is None:
            d.pop("explain")
        return d


@dataclass(frozen=True)
class Answer:
    """A strong FAQ match, shown as an answer card."""

    id: str = _field()
    slug: str = _field()
    question: str = _field()
    question_html: str = _field(**HTML_MARK)
    answer_html: str = _field(**HTML_MARK)
    url: str = _field()
    article_title: str = _field()

    def as_dict(self):
        return asdict(self)


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


@dataclass(frozen=True)
class Notice:
    """A notice card from a curation rule the query matched (``articles/curation.yaml``)."""

    text: str = _field(description="Plain text, shown above the results.")
    rule: str = _field(description="The curation rule's name.")
    link: str = _field(None, type=["string", "null"], description="Where the card links to, if anywhere.")

    def as_dict(self):
        return asdict(self)


@dataclass
class Results:
    """A page of results and what the query became."""

    query: str = _field(description="The query as searched (spaces collapsed).")
    total: int = _field(minimum=0)
    took_ms: float = _field(minimum=0)
    limit: int = _field(10, minimum=1, maximum=MAX_LIMIT)
    offset: int = _field(0, minimum=0, maximum=MAX_OFFSET)
    hits: list = _field(factory=list, json="results", items={"$ref": "Hit"})
    generation: str = _field("", description="The index generation that answered.")
    confidence: str = _field("high", enum=["high", "low"])
    answer: Answer = _field(None, ref="Answer", nullable=True)
    did_you_mean: DidYouMean = _field(None, ref="DidYouMean", nullable=True)
    unmatched: list = _field(factory=list, items={"type": "string"}, description="Query words that matched nothing.")
    notice: Notice = _field(
        None, ref="Notice", nullable=True, description="A curation rule's notice card for this query, if any."
    )
    cache_hit: bool = dataclasses.field(
        default=False, compare=False
    )  # answered from the result cache (not in the body)

    def log_fields(self):
        """What the access log says of this answer (never the query text)."""
        return {"results": self.total, "confidence": self.confidence, "cache_hit": self.cache_hit}

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
            "answer": _plain(self.answer),
            "did_you_mean": _plain(self.did_you_mean),
            "unmatched": self.unmatched,
            "notice": _plain(self.notice),
            "results": [h.as_dict() for h in self.hits],
        }


@dataclass(frozen=True)
class Suggestion:
    """A completion for the search box."""

    text: str = _field()
    html: str = _field(**{**HTML_MARK, "description": "`text` with the typed part in `<mark>`."})
    kind: str = _field(enum=["article", "faq", "synonym"])
    slug: str = _field()
    url: str = _field()

    def as_dict(self):
        return asdict(self)


def _plain(value):
    return value.as_dict() if hasattr(value, "as_dict") else value
