"""Presentation of search results: the HTML fragments and the JSON body built from the core's data.

The search package returns data (:class:`kb.search.Results`); the HTTP API,
the search page and ``kb search --json`` present it through this module.
No falcon here, so the CLI can use it too.
"""

import html
from dataclasses import dataclass

from .search.results import HTML_MARK, _field


@dataclass(frozen=True)
class DidYouMeanBody:
    """A spelling correction of the query; null when none is offered."""

    query: str = _field(description="The corrected query, plain text.")
    html: str = _field(**{**HTML_MARK, "description": "The corrected query, changed words in `<mark>`."})


def did_you_mean_html(did_you_mean):
    """The corrected query as HTML, the changed words in ``<mark>``, all text escaped."""
    return " ".join(
        f"<mark>{html.escape(suggested)}</mark>" if suggested != typed else html.escape(suggested)
        for typed, suggested in did_you_mean.words
    )


def did_you_mean_body(did_you_mean):
    """The response's ``did_you_mean``: ``{"query", "html"}``, or None."""
    if did_you_mean is None:
        return None
    return {"query": did_you_mean.query, "html": did_you_mean_html(did_you_mean)}


def search_body(results):
    """The body of ``GET /search`` (and of ``kb search --json``)."""
    return {**results.as_dict(), "did_you_mean": did_you_mean_body(results.did_you_mean)}
