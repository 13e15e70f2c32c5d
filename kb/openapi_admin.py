"""The OpenAPI fragments of the staff endpoints (:mod:`kb.web_admin`), merged by :mod:`kb.openapi`.

Analytics beacon, reports, and the write API with its ``bearerAuth`` scheme.
"""

from . import analytics, writes
from .search import MAX_QUERY_CHARS


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema, description, **extra):
    return {"description": description, "content": {"application/json": {"schema": schema}}, **extra}


def _err(description, **extra):
    return _json(_ref("Error"), description, **extra)


_NO_STORE = {"Cache-Control": {"description": "`no-store, private`.", "schema": {"type": "string"}}}
_UNAUTHORIZED = _err(
    "No `Authorization: Bearer <key>`, or a key that matches none (`unauthorized`).",
    headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
)


def _forbidden(scope):
    return _err(f"The key lacks the `{scope}` scope, or no key has it (`KB_API_KEYS`): `forbidden`.")


_BUSY = _err(
    "Another build held the index for 30 s (`index_busy`); retry after `Retry-After` seconds.",
    headers={"Retry-After": {"schema": {"type": "integer"}}},
)
_BAD = _err("A bad parameter or body (`bad_parameter`, with `parameter`).")

SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <secret>`; keys from `KB_API_KEYS` (`scope:secret` pairs) or "
        "`KB_API_KEYS_FILE`. Scopes: `write` (the write API), `analytics` (reports).",
    },
    "basicAuth": {
        "type": "http",
        "scheme": "basic",
        "description": "The staff page only: any user name, the `analytics` key as password (a browser's prompt).",
    },
}

LIVE_PARAMETER = {
    "name": analytics.LIVE_PARAM,
    "in": "query",
    "description": "`1`: an as-you-type request (the widget's), not counted in search analytics; the widget "
    "reports the query once it settles (`POST /events`). Other searches with `offset=0` are counted.",
    "schema": {"enum": ["0", "1"], "default": "0"},
}

_COUNTS = {
    "searches": {"type": "integer", "minimum": 0},
    "zero_results": {"type": "integer", "minimum": 0},
    "low_confidence": {"type": "integer", "minimum": 0, "description": "Results, all weak (`confidence: low`)."},
    "clicks": {"type": "integer", "minimum": 0},
    "click_through_rate": {"type": ["number", "null"], "description": "Clicks / searches."},
    "mean_click_position": {
        "type": ["number", "null"],
        "description": "Over clicks on results (position 1 and up); 0 is the answer card or a suggestion.",
    },
}
_QUERY_ROW = {
    "type": "object",
    "required": ["query", *_COUNTS],
    "additionalProperties": False,
    "properties": {"query": {"type": "string"}, **_COUNTS},
}
_PROBLEM = {
    "type": "object",
    "required": ["path", "line", "message", "text"],
    "additionalProperties": False,
    "properties": {
        "path": {"type": "string"},
        "line": {"type": "integer", "minimum": 1},
        "message": {"type": "string"},
        "text": {"type": "string", "description": "`path:line: message`."},
    },
}

SCHEMAS = {
    "AnalyticsReport": {
        "type": "object",
        "required": [
            "from",
            "to",
            "days",
            "min_count",
            "totals",
            "daily",
            "top_queries",
            "zero_result_queries",
            "low_confidence_queries",
            "no_click_queries",
            "below_min_count",
        ],
        "additionalProperties": False,
        "description": "Queries are listed only when searched at least `min_count` times in the window "
        "(`KB_ANALYTICS_MIN_COUNT`); rarer ones count in `totals` and `below_min_count` only.",
        "properties": {
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "days": {"type": "integer", "minimum": 1},
            "min_count": {"type": "integer", "minimum": 1},
            "totals": {
                "type": "object",
                "required": [*_COUNTS, "zero_result_rate"],
                "additionalProperties": False,
                "properties": {**_COUNTS, "zero_result_rate": {"type": ["number", "null"]}},
            },
            "daily": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["day", "searches", "zero_results", "zero_result_rate"],
                    "additionalProperties": False,
                    "properties": {
                        "day": {"type": "string", "format": "date"},
                        "searches": {"type": "integer", "minimum": 0},
                        "zero_results": {"type": "integer", "minimum": 0},
                        "zero_result_rate": {"type": ["number", "null"]},
                    },
                },
            },
            "top_queries": {"type": "array", "items": _QUERY_ROW},
            "zero_result_queries": {"type": "array", "items": _QUERY_ROW},
            "low_confidence_queries": {"type": "array", "items": _QUERY_ROW},
            "no_click_queries": {"type": "array", "items": _QUERY_ROW},
            "below_min_count": {
                "type": "object",
                "required": ["queries", "searches"],
                "additionalProperties": False,
                "properties": {"queries": {"type": "integer"}, "searches": {"type": "integer"}},
            },
        },
    },
    "Event": {
        "oneOf": [
            {
                "type": "object",
                "required": ["type", "q"],
                "additionalProperties": False,
                "properties": {
                    "type": {"const": "search"},
                    "q": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS},
                },
            },
            {
                "type": "object",
                "required": ["type", "q", "id", "position"],
                "additionalProperties": False,
                "properties": {
                    "type": {"const": "click"},
                    "q": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS},
                    "id": {"type": "string", "minLength": 1, "maxLength": analytics.MAX_ID_CHARS},
                    "position": {"type": "integer", "minimum": 0, "maximum": analytics.MAX_POSITION},
                },
            },
        ],
        "examples": [{"type": "click", "q": "egg retrieval", "id": "ivf#is-egg-retrieval-painful", "position": 1}],
    },
    "BuildResult": {
        "type": "object",
        "required": ["action", "build", "problems", "served"],
        "additionalProperties": False,
        "properties": {
            "action": {"enum": ["created", "updated", "deleted", "reindexed"]},
            "slug": {"type": "string"},
            "path": {"type": "string", "description": "The article's file."},
            "build": {
                "type": "object",
                "required": ["generation", "mode", "articles", "summary"],
                "properties": {
                    "generation": {"type": "string"},
                    "mode": {"enum": ["full", "incremental"]},
                    "articles": {"type": "integer"},
                    "sections": {"type": "integer"},
                    "faqs": {"type": "integer"},
                    "added": {"type": "integer"},
                    "changed": {"type": "integer"},
                    "removed": {"type": "integer"},
                    "unchanged": {"type": "integer"},
                    "seconds": {"type": "number"},
                    "summary": {"type": "string", "description": "The line `kb index` prints."},
                },
            },
            "problems": {"type": "array", "items": _PROBLEM, "description": "Other broken articles, if any."},
            "served": {"type": "boolean", "description": "This process serves the new generation already."},
        },
    },
    "ArticleRejected": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "problems"],
                "additionalProperties": False,
                "properties": {
                    "code": {"const": "article_invalid"},
                    "message": {"type": "string"},
                    "problems": {"type": "array", "items": _PROBLEM},
                },
            }
        },
    },
}

_SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
}
_WRITE = [{"bearerAuth": ["write"]}]
_REPORT_PARAMS = [
    {
        "name": "days",
        "in": "query",
        "description": "The window, ending today (UTC); at most the retention (`KB_ANALYTICS_RETENTION_DAYS`).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 90, "default": 30},
    },
    {
        "name": "limit",
        "in": "query",
        "description": "Queries per list.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    },
]
_OFF = _err("Search analytics are off (`KB_ANALYTICS=off`): `not_found`.")

ARTICLE_OPERATIONS = {
    "put": {
        "summary": "Create or replace an article",
        "description": "The body is the article file (front matter and Markdown, at most "
        f"{writes.MAX_ARTICLE_BYTES} bytes). It is checked, written atomically to `articles/{{slug}}.md` (or the "
        "file already holding the slug), and an incremental build runs; the answer comes once this process "
        "serves the new generation. A broken article is refused (422) and the previous version stays served. "
        "A build already running is waited for, up to 30 s.",
        "tags": ["Write API"],
        "security": _WRITE,
        "parameters": [_SLUG],
        "requestBody": {
            "required": True,
            "content": {"text/markdown": {"schema": {"type": "string"}}},
        },
        "responses": {
            "200": _json(_ref("BuildResult"), "Replaced and indexed.", headers=_NO_STORE),
            "201": _json(_ref("BuildResult"), "Created and indexed.", headers=_NO_STORE),
            "400": _BAD,
            "401": _UNAUTHORIZED,
            "403": _forbidden("write"),
            "422": _json(_ref("ArticleRejected"), "The article cannot be indexed: its `path:line` problems."),
            "503": _BUSY,
        },
    },
    "delete": {
        "summary": "Delete an article",
        "description": "Deletes the article's file and runs an incremental build without it.",
        "tags": ["Write API"],
        "security": _WRITE,
        "parameters": [_SLUG],
        "responses": {
            "200": _json(_ref("BuildResult"), "Deleted; the index no longer holds it.", headers=_NO_STORE),
            "400": _BAD,
            "401": _UNAUTHORIZED,
            "403": _forbidden("write"),
            "404": _err("No such article (`not_found`)."),
            "503": _BUSY,
        },
    },
}

PATHS = {
    "/events": {
        "post": {
            "summary": "Record a settled search or a click (analytics beacon)",
            "description": "For `navigator.sendBeacon`: the body is one JSON event, sent as `text/plain` (no CORS "
            "preflight) or `application/json`. It carries only the query, and for a click the result id and "
            "its position (1-based among the results; 0 for the answer card or a suggestion). Any other field "
            "is refused. Nothing about the sender is read or stored. With `KB_ANALYTICS=off` events are "
            "accepted and dropped.",
            "tags": ["Analytics"],
            "parameters": [],
            "requestBody": {
                "required": True,
                "content": {"text/plain": {"schema": _ref("Event")}, "application/json": {"schema": _ref("Event")}},
            },
            "responses": {"204": {"description": "Recorded."}, "400": _BAD},
        }
    },
    "/analytics": {
        "get": {
            "summary": "Search analytics report (JSON)",
            "description": "Top queries, queries with no results, with weak matches only, searched but never "
            "clicked; click-through and mean click position; a daily series. Same as `kb report --json`.",
            "tags": ["Analytics"],
            "security": [{"bearerAuth": ["analytics"]}],
            "parameters": _REPORT_PARAMS,
            "responses": {
                "200": _json(_ref("AnalyticsReport"), "The report.", headers=_NO_STORE),
                "400": _BAD,
                "401": _UNAUTHORIZED,
                "403": _forbidden("analytics"),
                "404": _OFF,
            },
        }
    },
    "/staff/analytics": {
        "get": {
            "summary": "Search analytics page for staff (HTML)",
            "description": "The report with a server-rendered SVG chart of daily searches and zero-result rate; "
            "no script. Bearer, or Basic (any user, the `analytics` key as password) from a browser.",
            "tags": ["Analytics"],
            "security": [{"bearerAuth": ["analytics"]}, {"basicAuth": []}],
            "parameters": _REPORT_PARAMS,
            "responses": {
                "200": {"description": "The page.", "content": {"text/html": {"schema": {"type": "string"}}}},
                "400": _BAD,
                "401": _UNAUTHORIZED,
                "403": _forbidden("analytics"),
                "404": _OFF,
            },
        }
    },
    "/reindex": {
        "post": {
            "summary": "Build the index from the articles directory",
            "description": "Incremental (`full=1`: everything), like `kb index`; answers once this process serves "
            "the new generation. Broken articles are listed in `problems` and skipped (their last good "
            "version stays served).",
            "tags": ["Write API"],
            "security": _WRITE,
            "parameters": [
                {
                    "name": "full",
                    "in": "query",
                    "description": "`1`: rebuild every article.",
                    "schema": {"enum": ["0", "1"], "default": "0"},
                }
            ],
            "responses": {
                "200": _json(_ref("BuildResult"), "Built and served.", headers=_NO_STORE),
                "400": _BAD,
                "401": _UNAUTHORIZED,
                "403": _forbidden("write"),
                "503": _BUSY,
            },
        }
    },
}


def _with_head(ops):
    """``ops`` plus the HEAD operation kb answers wherever it answers GET (``kb.web._Router``)."""
    get = ops["get"]
    return {
        **ops,
        "head": {
            **get,
            "summary": f"{get['summary']} (headers only)",
            "description": "The headers of the GET answer, no body.",
        },
    }


def merge(document):
    """Add the staff endpoints, schemas and security schemes to kb's OpenAPI ``document``."""
    document["paths"]["/search"]["get"]["parameters"].append(LIVE_PARAMETER)
    document["paths"]["/articles/{slug}"].update(ARTICLE_OPERATIONS)
    document["paths"].update({path: _with_head(ops) if "get" in ops else ops for path, ops in PATHS.items()})
    document["components"]["schemas"].update(SCHEMAS)
    document["components"]["securitySchemes"] = SECURITY_SCHEMES
    document["tags"] += [
        {"name": "Analytics", "description": "Privacy-safe search analytics: beacon and reports."},
        {"name": "Write API", "description": "Publish articles with a `write` key."},
    ]
    return document
