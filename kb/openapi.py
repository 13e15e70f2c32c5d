"""The OpenAPI 3.1 document of kb's HTTP interface, served at ``GET /openapi.json``.

Every public endpoint is here with its parameters (and their limits), its
responses and the one error shape.  ``tests/test_openapi.py`` keeps it true: it
checks that every route of the app is documented and validates real responses
against these schemas.  Change an endpoint, change this file.
"""

import json

from . import __version__
from .caching import strong_etag
from .openapi_admin import merge as merge_admin
from .pages import MAX_PAGE, PAGE_SIZE
from .search import KINDS, MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS, MAX_SUGGEST

SUGGEST_DEFAULT_LIMIT = 8


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _html(description):
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _error(description):
    return {"$ref": f"#/components/responses/{description}"}


_NULLABLE_STR = {"type": ["string", "null"]}
_HTML_MARK = {
    "type": "string",
    "description": "HTML in which only `<mark>…</mark>` is markup; all text is escaped.",
}

SCHEMAS = {
    "Error": {
        "type": "object",
        "description": "Every error, whatever the status.",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": False,
                "properties": {
                    "code": {
                        "type": "string",
                        "description": "Stable machine-readable code.",
                        "examples": ["bad_parameter", "not_found", "method_not_allowed", "index_missing"],
                    },
                    "message": {"type": "string", "description": "For people."},
                    "parameter": {"type": "string", "description": "The parameter at fault (400 only)."},
                },
            }
        },
    },
    "Hit": {
        "type": "object",
        "required": ["id", "kind", "slug", "title", "title_html", "article_title", "url", "snippet", "score"],
        "properties": {
            "id": {
                "type": "string",
                "description": "`slug` or `slug#anchor`.",
                "examples": ["ivf#is-egg-retrieval-painful"],
            },
            "kind": {"enum": list(KINDS)},
            "slug": {"type": "string"},
            "title": {"type": "string", "description": "Plain text: article title, section heading or FAQ question."},
            "title_html": _HTML_MARK,
            "article_title": {"type": "string"},
            "url": {
                "type": "string",
                "description": "Deep link: the article URL, with `#anchor` for sections and FAQs.",
            },
            "snippet": _HTML_MARK,
            "score": {"type": "number"},
            "position": {"type": "integer", "description": "FAQ entries: 1-based place in the article's FAQ."},
            "children": {"type": "array", "items": _ref("Hit"), "description": "Grouped hits of the same article."},
        },
        "additionalProperties": False,
    },
    "Answer": {
        "type": ["object", "null"],
        "description": "A strong FAQ match, shown as an answer card; null when there is none.",
        "required": ["id", "question", "question_html", "answer_html", "url", "slug", "article_title"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string"},
            "question": {"type": "string"},
            "question_html": _HTML_MARK,
            "answer_html": _HTML_MARK,
            "url": {"type": "string"},
            "slug": {"type": "string"},
            "article_title": {"type": "string"},
        },
    },
    "DidYouMean": {
        "type": ["object", "null"],
        "description": "A spelling correction of the query; null when none is offered.",
        "required": ["query", "html"],
        "additionalProperties": False,
        "properties": {
            "query": {"type": "string", "description": "The corrected query, plain text."},
            "html": {**_HTML_MARK, "description": "The corrected query, changed words in `<mark>`."},
        },
    },
    "SearchResponse": {
        "type": "object",
        "required": ["query", "total", "took_ms", "limit", "offset", "generation", "results"],
        "additionalProperties": False,
        "properties": {
            "query": {"type": "string", "description": "The query as searched (spaces collapsed)."},
            "total": {"type": "integer", "minimum": 0},
            "took_ms": {"type": "number", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
            "generation": {"type": "string", "description": "The index generation that answered."},
            "results": {"type": "array", "items": _ref("Hit")},
            "answer": _ref("Answer"),
            "did_you_mean": _ref("DidYouMean"),
            "unmatched": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Query words that matched nothing.",
            },
            "confidence": {"enum": ["high", "low"]},
        },
    },
    "Suggestion": {
        "type": "object",
        "required": ["text", "html", "kind", "slug", "url"],
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string"},
            "html": {**_HTML_MARK, "description": "`text` with the typed part in `<mark>`."},
            "kind": {"enum": ["article", "faq", "synonym"]},
            "slug": {"type": "string"},
            "url": {"type": "string"},
        },
    },
    "SuggestResponse": {
        "type": "object",
        "required": ["query", "suggestions"],
        "additionalProperties": False,
        "properties": {
            "query": {"type": "string"},
            "took_ms": {"type": "number", "minimum": 0},
            "suggestions": {"type": "array", "items": _ref("Suggestion"), "maxItems": MAX_SUGGEST},
        },
    },
    "Article": {
        "type": "object",
        "required": ["title", "slug", "url", "summary", "tags", "synonyms", "language", "sections", "faqs", "html"],
        "properties": {
            "title": {"type": "string"},
            "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
            "url": {"type": "string", "description": "A relative path or an http(s) URL (checked when indexed)."},
            "summary": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "synonyms": {"type": "array", "items": {"type": "string"}},
            "language": {"type": "string"},
            "sections": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "anchor", "url", "heading"],
                    "properties": {
                        "id": {"type": "string"},
                        "anchor": {"type": "string"},
                        "url": {"type": "string"},
                        "heading": {"type": "string"},
                    },
                },
            },
            "faqs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "anchor", "url", "question", "answer"],
                    "properties": {
                        "id": {"type": "string"},
                        "anchor": {"type": "string"},
                        "url": {"type": "string"},
                        "question": {"type": "string"},
                        "answer": {"type": "string", "description": "Plain text."},
                        "position": {"type": "integer", "minimum": 1},
                    },
                },
            },
            "html": {
                "type": "string",
                "description": "The article rendered; raw HTML in the Markdown is escaped. Heading ids are the anchors.",
            },
            "generation": {"type": "string"},
        },
        "additionalProperties": False,
    },
    "Health": {
        "type": "object",
        "required": ["status", "generation", "counts", "documents", "version"],
        "properties": {
            "status": {"const": "ok"},
            "generation": {"type": "string"},
            "built_at": _NULLABLE_STR,
            "counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
            "documents": {"type": "integer", "minimum": 0},
            "problems": {"type": "integer", "minimum": 0},
            "build_seconds": {"type": ["number", "null"], "description": "How long the generation's build took."},
            "version": {"type": "string"},
            "ready": {"type": "boolean", "description": "This worker takes requests (false while it drains)."},
            "pid": {"type": "integer", "description": "The worker process that answered."},
        },
    },
}

_Q = {
    "name": "q",
    "in": "query",
    "required": True,
    "description": "The visitor's text. No operators: quotes, `AND`, `title:`, `*` are just text.",
    "schema": {"type": "string", "maxLength": MAX_QUERY_CHARS},
}
_CACHED = {
    "ETag": {"description": "Weak; from the index generation and the request URL.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "`public, max-age=60`.", "schema": {"type": "string"}},
}
_STATIC = {
    "ETag": {"description": "Strong; from the bytes.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "`public, max-age=300`.", "schema": {"type": "string"}},
}
_NOT_MODIFIED = {"description": "`If-None-Match` held the current ETag (or `*`) and the answer would be a 200."}


def _get(summary, description, parameters, responses, tags):
    """A GET operation, and the HEAD operation every GET route answers too."""
    get = {
        "summary": summary,
        "description": description,
        "tags": tags,
        "parameters": parameters,
        "responses": responses,
    }
    head = {**get, "summary": f"{summary} (headers only)", "description": "The headers of the GET answer, no body."}
    return {"get": get, "head": head}


PATHS = {
    "/search": _get(
        "Search articles, sections and FAQ answers",
        "Ranked hits with highlighted snippets, plus an answer card, a spelling suggestion and the words that matched nothing.",
        [
            _Q,
            {
                "name": "limit",
                "in": "query",
                "description": "Results per page.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 10},
            },
            {
                "name": "offset",
                "in": "query",
                "description": "Results to skip.",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            },
            {
                "name": "kind",
                "in": "query",
                "description": "One kind of document only.",
                "schema": {"enum": list(KINDS)},
            },
            {
                "name": "group",
                "in": "query",
                "description": "`article`: one result per article, its best sections and FAQs in `children`.",
                "schema": {"enum": ["article"]},
            },
        ],
        {
            "200": {**_json(_ref("SearchResponse"), "A page of results."), "headers": _CACHED},
            "304": _NOT_MODIFIED,
            "400": _error("BadParameter"),
            "503": _error("IndexMissing"),
        },
        ["API"],
    ),
    "/suggest": _get(
        "Complete what a visitor is typing",
        "Article titles, FAQ questions and synonyms matching the typed words, the last one as a prefix.",
        [
            {**_Q, "description": "What has been typed so far; the last word may be cut short."},
            {
                "name": "limit",
                "in": "query",
                "description": "Suggestions at most.",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_SUGGEST,
                    "default": SUGGEST_DEFAULT_LIMIT,
                },
            },
        ],
        {
            "200": {**_json(_ref("SuggestResponse"), "Suggestions, best first."), "headers": _CACHED},
            "304": _NOT_MODIFIED,
            "400": _error("BadParameter"),
            "503": _error("IndexMissing"),
        },
        ["API"],
    ),
    "/articles/{slug}": _get(
        "One article",
        "JSON by default (no `Accept`, `*/*`, `application/json`). A client that ranks `text/html` above "
        "`application/json` (a browser) gets the article page, whose heading ids are the search anchors; "
        "then a 404 is an HTML page too. `Vary: Accept`.",
        [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}],
        {
            "200": {
                "description": "The article.",
                "headers": _CACHED,
                "content": {
                    "application/json": {"schema": _ref("Article")},
                    "text/html": {"schema": {"type": "string"}},
                },
            },
            "304": _NOT_MODIFIED,
            "404": {
                "description": "No such article: kb's JSON error (`not_found`), or a page for a browser.",
                "content": {"application/json": {"schema": _ref("Error")}, "text/html": {"schema": {"type": "string"}}},
            },
            "503": _error("IndexMissing"),
        },
        ["API", "Pages"],
    ),
    "/health": _get(
        "Service health",
        "The generation served, when it was built, its document counts, and whether the worker that answered is "
        "ready. Cheap: no search is run. `Cache-Control: no-store`.",
        [],
        {
            "200": _json(_ref("Health"), "Serving."),
            "503": {
                "description": "No index built yet (`index_missing`), or this worker is stopping "
                "(the Health body with `ready: false`): ask again, another worker answers.",
                "content": {"application/json": {"schema": {"oneOf": [_ref("Error"), _ref("Health")]}}},
            },
        },
        ["API"],
    ),
    "/metrics": _get(
        "Prometheus metrics",
        "Every worker's metrics in the Prometheus text format (prometheus-client, multiprocess): "
        "`kb_http_requests_total{route,status}`, `kb_http_request_duration_seconds{route}` (histogram), "
        "`kb_search_results` (histogram of matches per /search query), `kb_search_zero_results_total`, "
        "`kb_result_cache_lookups_total{result=hit|miss}`, `kb_result_cache_bytes`, `kb_worker_restarts_total`, "
        "`kb_generation_info{generation}`, `kb_generation_age_seconds`, `kb_generation_built_timestamp_seconds`, "
        "`kb_build_duration_seconds`, `kb_build_problems`, `kb_generation_documents`. No label holds query text. "
        "`Cache-Control: no-store`.",
        [],
        {
            "200": {
                "description": "The Prometheus text exposition format, as prometheus-client writes it.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
        ["API"],
    ),
    "/openapi.json": _get(
        "This document",
        "The OpenAPI 3.1 description of kb's HTTP interface.",
        [],
        {
            "200": {**_json({"type": "object", "required": ["openapi", "paths"]}, "OpenAPI 3.1."), "headers": _STATIC},
            "304": _NOT_MODIFIED,
        },
        ["API"],
    ),
    "/": _get(
        "Search page",
        f"Server-rendered search that works without JavaScript: a `<form method=get>`, {PAGE_SIZE} results a page, "
        "previous/next links, the answer card and did-you-mean. Includes the widget.",
        [
            {**_Q, "required": False, "description": "The visitor's text; none shows the empty search form."},
            {
                "name": "page",
                "in": "query",
                "description": f"{PAGE_SIZE} results a page.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            },
        ],
        {
            "200": {**_html("The search page."), "headers": _CACHED},
            "304": _NOT_MODIFIED,
            "400": _html("`page` or `q` out of range, blank `page`, or either given twice: an HTML page saying so."),
            "503": _html("No index built yet."),
        },
        ["Pages"],
    ),
    "/widget.js": _get(
        "The search box widget",
        'Embed with `<script src="https://kb.example/widget.js" defer></script>` and `<div data-kb-search></div>`.',
        [],
        {
            "200": {
                "description": "Plain JavaScript.",
                "headers": _STATIC,
                "content": {"text/javascript": {"schema": {"type": "string"}}},
            },
            "304": _NOT_MODIFIED,
        },
        ["Widget"],
    ),
    "/widget.css": _get(
        "The search box widget's styles",
        "Loaded by widget.js itself.",
        [],
        {
            "200": {"description": "CSS.", "headers": _STATIC, "content": {"text/css": {"schema": {"type": "string"}}}},
            "304": _NOT_MODIFIED,
        },
        ["Widget"],
    ),
    "/favicon.ico": _get(
        "The site icon",
        "The icon browsers ask for.",
        [],
        {
            "200": {"description": "An icon.", "headers": _STATIC, "content": {"image/x-icon": {"schema": {}}}},
            "304": _NOT_MODIFIED,
        },
        ["Pages"],
    ),
}

RESPONSES = {
    "BadParameter": _json(
        _ref("Error"),
        "A parameter is missing, blank, given twice, out of range or not a number (`bad_parameter`, with `parameter`).",
    ),
    "IndexMissing": {
        **_json(_ref("Error"), "No index built yet (`index_missing`); run `kb index`."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "kb",
        "version": __version__,
        "summary": "Search over a clinic's Markdown articles and their FAQ answers.",
        "description": "Every error is JSON of one shape: "
        '`{"error": {"code": "bad_parameter", "message": "...", "parameter": "limit"}}`. '
        "Unknown paths answer 404 `not_found`, other methods 405 `method_not_allowed`. "
        "Browsers on other origins may call the API when their origin is in `KB_CORS_ORIGINS`.",
    },
    "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
    "tags": [
        {"name": "API", "description": "JSON for integrations and the widget."},
        {"name": "Pages", "description": "HTML for visitors."},
        {"name": "Widget", "description": "The embeddable search box."},
    ],
    "paths": PATHS,
    "components": {"schemas": SCHEMAS, "responses": RESPONSES},
}
merge_admin(DOCUMENT)  # analytics, reports, the write API (kb/openapi_admin.py)


class OpenAPIResource:
    """``GET /openapi.json``: :data:`DOCUMENT`, with a strong ETag."""

    def __init__(self, document=DOCUMENT):
        self.data = json.dumps(document, indent=1, ensure_ascii=False).encode("utf-8")
        self.etag = strong_etag(self.data)

    def on_get(self, req, resp):
        resp.content_type = "application/json"
        resp.etag = self.etag
        resp.data = self.data
