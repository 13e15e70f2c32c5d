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


def explanation_lines(explain):
    """Lines of text for one hit's ``explain``: the rules' values, then BM25F per word, term and field."""
    rules = explain["rules"] or {}
    parts = []
    for name, value in rules.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
            parts.append(f"{name} ({value})")
        else:
            parts.append(f"{name} {value}")
    lines = ["rules: " + ("; ".join(parts) if parts else "(did not match; shown as its group's head)")]
    for slot in explain["slots"]:
        lines.append(f"  {slot['word']!r}: {slot['score']} via {slot['matched_by'] or 'nothing'}")
        for alt in slot["alternatives"]:
            if not alt["score"]:
                continue
            terms = alt.get("terms") or [{"term": alt["prefix"] + "*", **alt}]
            lines.append(f"    {alt['how']} {' '.join(t['term'] for t in terms)} x{alt['weight']}: {alt['score']}")
            for t in terms:
                fields = ", ".join(f"{f} {v}" for f, v in t["fields"].items() if v)
                lines.append(f"      {t['term']}: {t['score']} (idf {t['idf']}, df {t['df']}, tf {t['tf']}; {fields})")
    if explain["parent"]:
        p = explain["parent"]
        capped = ", capped just below the article" if p["capped"] else ""
        lines.append(f"  + {p['blend']} x article {p['article']!r} score {p['article_score']}{capped}")
    if explain["question_prior"]:
        lines.append(f"  x {explain['question_prior']} (a FAQ entry for a question)")
    if explain.get("diversity"):
        lines.append(f"  moved: {explain['diversity']}")
    semantic = explain.get("semantic")
    if semantic:
        kept = ", kept in place: the query names its title" if semantic["kept_in_place"] else ""
        lines.append(
            f"semantic: cosine {semantic['cosine']}; lexical position {semantic['lexical_position']}"
            f" -> fused {semantic['fused_position']}{kept}"
        )
    return lines
