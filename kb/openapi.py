"""The OpenAPI 3.1 document of kb's HTTP interface, served at ``GET /openapi.json``.

Every public endpoint is here with its parameters (and their limits), its
responses and the one error shape.  ``tests/test_openapi.py`` keeps it true: it
checks that every route of the app is documented and validates real responses
against these schemas.  Change an endpoint, change this file.
"""

import dataclasses
import json

from . import __version__
from .caching import strong_etag
from .openapi_admin import merge as merge_admin
from .pages import MAX_PAGE, PAGE_SIZE
from .presentation import DidYouMeanBody
from .search import KINDS, MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS, MAX_SUGGEST
from .search.results import HTML_MARK, Answer, Hit, Notice, Results, Suggestion

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
_HTML_MARK = HTML_MARK
_JSON_TYPES = {str: "string", int: "integer", float: "number", list: "array", tuple: "array", dict: "object"}


def schema_of(cls, nullable=False, description=None):
    """The JSON Schema of a result dataclass, from its fields and their ``metadata`` (kb.search.results)."""
    properties, required = {}, []
    for f in dataclasses.fields(cls):
        if "schema" not in f.metadata:
            continue  # not part of the body (e.g. Results.cache_hit)
        meta = dict(f.metadata.get("schema", {}))
        name = f.metadata.get("json") or f.name
        ref = meta.pop("ref", None)
        meta.pop("nullable", None)
        if ref:
            prop = _ref(ref)
        else:
            prop = {} if "enum" in meta else {"type": _JSON_TYPES[f.type]}
            if "$ref" in meta.get("items", {}):
                meta["items"] = _ref(meta["items"]["$ref"])
            prop.update(meta)
        properties[name] = prop
        if not f.metadata.get("optional"):
            required.append(name)
    return {
        "type": ["object", "null"] if nullable else "object",
        "description": description or cls.__doc__.strip().splitlines()[0],
        "required": required,
        "additionalProperties": False,
        "properties": properties,
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
    "Explanation": {
        "type": "object",
        "description": "Why the hit ranks where it does (only with `explain=true`).",
        "required": ["rules", "slots", "parent", "question_prior", "diversity"],
        "additionalProperties": False,
        "properties": {
            "semantic": {
                "type": "object",
                "description": "Only in hybrid mode, for a question-like query, on a hit among the lexical top k "
                "the semantic stage reranked: the cosine between the query and the hit, its lexical and fused "
                "positions (1-based), and whether it was kept in place (its title is named by the query).",
                "required": ["cosine", "lexical_position", "fused_position", "kept_in_place"],
                "additionalProperties": False,
                "properties": {
                    "cosine": {"type": "number", "minimum": -1, "maximum": 1},
                    "lexical_position": {"type": "integer", "minimum": 1},
                    "fused_position": {"type": "integer", "minimum": 1},
                    "kept_in_place": {"type": "boolean"},
                },
            },
            "rules": {
                "type": ["object", "null"],
                "description": "Each ranking rule that applies to the query, in order, and its value for this hit "
                "(`curation`: the curation rules the query matched and the position this hit is `pinned` to, "
                "and by which rule; `words_matched`, `typos`, `score` with its `bm25f` and `title_bonus`); null for an article "
                "shown as a group's head without matching.",
            },
            "slots": {
                "type": "array",
                "description": "Per typed word: each way it can match (`exact`, `synonym`, `typo`, `prefix`) with "
                "the BM25F breakdown per term (`idf`, `df`, `tf`, `score`) and per field (`fields`: the share of "
                "the score from each field); the best alternative counts.",
                "items": {"type": "object"},
            },
            "parent": {
                "type": ["object", "null"],
                "description": "For a section or FAQ entry: the article score it inherited and the blend factor.",
            },
            "question_prior": {
                "type": ["number", "null"],
                "description": "The factor a FAQ entry gets when the query is a question.",
            },
            "diversity": {
                "type": ["string", "null"],
                "description": "What diversity did to the hit's place, if anything: a topic query's FAQ entry "
                "deferred past the next articles (`side_entries`), or a question's article placed just before "
                "its first entry (`question_article_first`).",
            },
        },
    },
    "Hit": schema_of(Hit),
    "Answer": schema_of(Answer, True, "A strong FAQ match, shown as an answer card; null when there is none."),
    "DidYouMean": schema_of(DidYouMeanBody, True),
    "Notice": schema_of(Notice, True, "A curation rule's notice card (articles/curation.yaml); null when none."),
    "SearchResponse": schema_of(Results, description="A page of results and what the query became."),
    "Suggestion": schema_of(Suggestion),
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
            "search": {
                "type": "object",
                "description": "Which search is on: `lexical` (BM25F and the ranking rules only), or `hybrid` "
                "(the semantic extra is installed, `KB_SEMANTIC` is not `off`, and the generation has vectors of "
                "this model): question-like queries have their lexical top k reranked by cosine similarity.",
                "required": ["mode"],
                "additionalProperties": False,
                "properties": {
                    "mode": {"enum": ["lexical", "hybrid"]},
                    "model": {"type": "string", "description": "The embedding model's id (hybrid only)."},
                },
            },
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
            {
                "name": "explain",
                "in": "query",
                "description": "`true`: each hit carries `explain`, the ranking rules' values and the BM25F "
                "contributions per term and field. Off by default (it costs time).",
                "schema": {"type": "boolean", "default": False},
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
        "The generation served, when it was built, its document counts, whether the worker that answered is "
        "ready, and which search mode is on (`search`: lexical, or hybrid with the embedding model's id). "
        "Cheap: no search is run (the first call of a hybrid worker loads the model). `Cache-Control: no-store`.",
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
