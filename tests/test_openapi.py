"""``GET /openapi.json`` stays true: valid OpenAPI 3.1, every route documented,
real responses (200s, 400s, 404s, 503s) valid against its schemas, and every
documented parameter limit enforced by the app.
"""

import json

import pytest
from falcon import testing
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from kb.config import Config
from kb.openapi import DOCUMENT
from kb.web import create_app

from .kb_site import make_site

BROWSER_ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"
DOC_URI = "urn:kb:openapi"
REGISTRY = Registry().with_resource(DOC_URI, Resource.from_contents(DOCUMENT, default_specification=DRAFT202012))


KEYS = {"write": "w-secret", "analytics": "a-secret"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return make_site(tmp_path_factory.mktemp("site"), api_keys=" ".join(f"{k}:{v}" for k, v in KEYS.items()))


def auth(scope):
    return {"Authorization": f"Bearer {KEYS[scope]}"}


def key_headers(path, method="get"):
    """The ``Authorization`` header a documented operation needs, if any."""
    security = DOCUMENT["paths"][path][method].get("security") or [{}]
    scopes = next(iter(security[0].values()), [])
    return auth(scopes[0]) if scopes else {}


@pytest.fixture(scope="module")
def client(site):
    return testing.TestClient(create_app(site))


@pytest.fixture(scope="module")
def empty_client(tmp_path_factory):
    """An app whose index has never been built: everything that reads it is 503."""
    root = tmp_path_factory.mktemp("empty")
    return testing.TestClient(create_app(Config(articles_dir=root / "articles", index_dir=root / "index")))


def routes(app):
    """``{uri_template: {methods with a responder of kb's own}}`` of a Falcon app."""
    found = {}

    def walk(nodes):
        for node in nodes:
            if node.uri_template:
                found[node.uri_template] = {
                    method.lower()
                    for method, responder in node.method_map.items()
                    if getattr(responder, "__name__", "").startswith("on_")
                }
            walk(node.children)

    walk(app._router._roots)
    return found


def deref(obj):
    """``obj``, or what its local ``$ref`` points at."""
    while "$ref" in obj:
        node = DOCUMENT
        for part in obj["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def documented(template, status, method="get"):
    """The documented response of ``METHOD template`` for ``status``."""
    responses = DOCUMENT["paths"][template][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {template} answered {status}, which is not documented"
    return deref(responses[str(status)])


def check_response(template, r, method="get"):
    """``r`` is documented for ``template``: its status, content type, body schema, headers."""
    spec = documented(template, r.status_code, method)
    if r.status_code == 204:
        assert not r.content
        return
    ctype = r.headers.get("content-type", "").split(";")[0].strip()
    content = spec.get("content", {})
    assert ctype in content, f"GET {template} {r.status_code} answered {ctype}, documented: {sorted(content)}"
    schema = content[ctype]["schema"]
    body = r.json if ctype == "application/json" else r.text
    # The schema is checked in place, inside the whole document, so $refs resolve.
    validator = Draft202012Validator(
        {"$ref": f"{DOC_URI}#{pointer(template, r.status_code, ctype, method)}"}, registry=REGISTRY
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    assert schema is not None
    for header in spec.get("headers", {}):
        assert header.lower() in r.headers, f"GET {template} {r.status_code} lacks documented header {header}"


def pointer(template, status, ctype, method="get"):
    """The JSON pointer of a response schema, following a response $ref."""
    ref = DOCUMENT["paths"][template][method]["responses"][str(status)]
    if "$ref" in ref:
        base = ref["$ref"].removeprefix("#")
    else:
        base = "/paths/" + template.replace("~", "~0").replace("/", "~1") + f"/{method}/responses/{status}"
    return f"{base}/content/{ctype.replace('/', '~1')}/schema"


# -- the document -------------------------------------------------------------


def test_document_is_valid_openapi_3_1():
    assert DOCUMENT["openapi"].startswith("3.1.")
    validate_spec(DOCUMENT)  # the OpenAPI 3.1 meta-schema, with JSON Schema 2020-12
    Draft202012Validator.check_schema({"$defs": DOCUMENT["components"]["schemas"]})


def test_served_document_is_the_document(client):
    r = client.simulate_get("/openapi.json")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json == json.loads(json.dumps(DOCUMENT))
    check_response("/openapi.json", r)
    again = client.simulate_get("/openapi.json", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_every_route_is_documented_and_every_documented_path_exists(client):
    app_routes = routes(client.app)
    doc_routes = {path: set(ops) for path, ops in DOCUMENT["paths"].items()}
    assert app_routes == doc_routes


def test_every_operation_documents_its_errors():
    for path, ops in DOCUMENT["paths"].items():
        for op in ops.values():
            assert op["summary"] and op["description"]
            assert any(status.startswith("2") for status in op["responses"])
            if any(
                p.get("required") or "maximum" in p["schema"] or "enum" in p["schema"]
                for p in op["parameters"]
                if p["in"] == "query"
            ):
                assert "400" in op["responses"], path
            if any(p["in"] == "path" for p in op["parameters"]):
                assert "404" in op["responses"] or "put" in ops, path
            if op.get("security"):
                assert {"401", "403"} <= set(op["responses"]), path


# -- real responses ---------------------------------------------------------------

REQUESTS = [
    # (template, path, params, headers, expected status)
    ("/search", "/search", {"q": "painful"}, {}, 200),
    ("/search", "/search", {"q": "folate", "limit": "50", "offset": "3"}, {}, 200),
    ("/search", "/search", {"q": "iron", "kind": "faq"}, {}, 200),
    ("/search", "/search", {"q": "zzzyqx"}, {}, 200),
    ("/search", "/search", {"q": "pianful"}, {}, 200),
    ("/search", "/search", {"q": "painful egg retrieval", "explain": "true"}, {}, 200),
    ("/search", "/search", {"q": "ivf", "group": "article", "explain": "true"}, {}, 200),
    ("/search", "/search", {"q": "x", "explain": "maybe"}, {}, 400),
    ("/search", "/search", None, {}, 400),
    ("/search", "/search", {"q": "x", "limit": "abc"}, {}, 400),
    ("/suggest", "/suggest", {"q": "endo"}, {}, 200),
    ("/suggest", "/suggest", {"q": "test tu", "limit": "3"}, {}, 200),
    ("/suggest", "/suggest", {"q": "zzzyqx"}, {}, 200),
    ("/suggest", "/suggest", None, {}, 400),
    ("/articles/{slug}", "/articles/ivf", None, {}, 200),
    ("/articles/{slug}", "/articles/iron", None, {"Accept": "application/json"}, 200),
    ("/articles/{slug}", "/articles/ivf", None, {"Accept": BROWSER_ACCEPT}, 200),
    ("/articles/{slug}", "/articles/nope", None, {}, 404),
    ("/articles/{slug}", "/articles/nope", None, {"Accept": BROWSER_ACCEPT}, 404),
    ("/health", "/health", None, {}, 200),
    ("/metrics", "/metrics", None, {}, 200),
    ("/openapi.json", "/openapi.json", None, {}, 200),
    ("/", "/", None, {}, 200),
    ("/", "/", {"q": "folate", "page": "2"}, {}, 200),
    ("/", "/", {"q": "folate", "page": "0"}, {}, 400),
    ("/widget.js", "/widget.js", None, {}, 200),
    ("/widget.css", "/widget.css", None, {}, 200),
    ("/search", "/search", {"q": "ivf", "live": "1"}, {}, 200),
    ("/analytics", "/analytics", None, auth("analytics"), 200),
    ("/analytics", "/analytics", {"days": "7", "limit": "3"}, auth("analytics"), 200),
    ("/analytics", "/analytics", None, {}, 401),
    ("/analytics", "/analytics", None, auth("write"), 403),
    ("/analytics", "/analytics", {"days": "0"}, auth("analytics"), 400),
    ("/staff/analytics", "/staff/analytics", None, auth("analytics"), 200),
    ("/staff/analytics", "/staff/analytics", None, {}, 401),
]


@pytest.mark.parametrize("template,path,params,headers,status", REQUESTS)
def test_real_responses_match_the_document(client, template, path, params, headers, status):
    r = client.simulate_get(path, params=params, headers=headers)
    assert r.status_code == status, r.text[:300]
    check_response(template, r)


@pytest.mark.parametrize(
    "template,path,params",
    [
        ("/search", "/search", {"q": "ivf"}),
        ("/suggest", "/suggest", {"q": "iv"}),
        ("/articles/{slug}", "/articles/ivf", None),
        ("/health", "/health", None),
    ],
)
def test_no_index_is_a_documented_503(empty_client, template, path, params):
    r = empty_client.simulate_get(path, params=params)
    assert r.status_code == 503
    assert r.json["error"]["code"] == "index_missing"
    check_response(template, r)


@pytest.mark.parametrize("path,method", [("/nowhere", "GET"), ("/search", "POST"), ("/articles/ivf", "PATCH")])
def test_unknown_paths_and_methods_use_the_error_shape(client, path, method):
    r = client.simulate_request(method, path)
    assert r.status_code in (404, 405)
    errors = list(
        Draft202012Validator({"$ref": f"{DOC_URI}#/components/schemas/Error"}, registry=REGISTRY).iter_errors(r.json)
    )
    assert not errors, errors


# -- every documented limit is the app's ----------------------------------------------


def query_parameters():
    for path, ops in DOCUMENT["paths"].items():
        for param in ops.get("get", {"parameters": []})["parameters"]:
            if param["in"] == "query":
                yield path, param


def base_params(path):
    return {"q": "folate"} if path in ("/search", "/suggest", "/") else {}


@pytest.mark.parametrize(
    "path,param",
    [(p, q) for p, q in query_parameters() if q["schema"].get("type") == "integer"],
    ids=lambda x: x if isinstance(x, str) else x["name"],
)
def test_integer_limits_are_enforced(client, path, param):
    schema, name = param["schema"], param["name"]
    for value in (schema["minimum"], schema["maximum"], schema.get("default", schema["minimum"])):
        r = client.simulate_get(path, params={**base_params(path), name: str(value)}, headers=key_headers(path))
        assert r.status_code == 200, (name, value, r.text[:200])
        check_response(path, r)
    for value in (schema["minimum"] - 1, schema["maximum"] + 1, "1.5", "ten"):
        r = client.simulate_get(path, params={**base_params(path), name: str(value)}, headers=key_headers(path))
        assert r.status_code == 400, (name, value)
        check_response(path, r)
        if r.headers["content-type"] == "application/json":
            assert r.json["error"] == {**r.json["error"], "code": "bad_parameter", "parameter": name}


@pytest.mark.parametrize(
    "path,param",
    [(p, q) for p, q in query_parameters() if "enum" in q["schema"]],
    ids=lambda x: x if isinstance(x, str) else x["name"],
)
def test_enum_values_are_enforced(client, path, param):
    for value in param["schema"]["enum"]:
        r = client.simulate_get(path, params={**base_params(path), param["name"]: value}, headers=key_headers(path))
        assert r.status_code == 200
        check_response(path, r)
    r = client.simulate_get(path, params={**base_params(path), param["name"]: "bogus"}, headers=key_headers(path))
    assert r.status_code == 400
    check_response(path, r)


@pytest.mark.parametrize(
    "path,param",
    [(p, q) for p, q in query_parameters() if "maxLength" in q["schema"]],
    ids=lambda x: x if isinstance(x, str) else x["name"],
)
def test_query_length_limit_is_enforced(client, path, param):
    longest = param["schema"]["maxLength"]
    ok = client.simulate_get(path, params={param["name"]: "a" * longest})
    assert ok.status_code == 200
    too_long = client.simulate_get(path, params={param["name"]: "a" * (longest + 1)})
    assert too_long.status_code == 400
    check_response(path, too_long)


@pytest.mark.parametrize("path", [p for p, q in query_parameters() if q.get("required")])
def test_required_parameters_are_required(client, path):
    r = client.simulate_get(path)
    assert r.status_code == 400
    assert r.json["error"]["code"] == "bad_parameter"
    check_response(path, r)


def test_response_schemas_are_generated_from_the_result_types():
    import dataclasses

    from kb.openapi import SCHEMAS
    from kb.presentation import DidYouMeanBody
    from kb.search import Answer, Hit, Results, Suggestion

    for name, cls in [
        ("Hit", Hit),
        ("Answer", Answer),
        ("DidYouMean", DidYouMeanBody),
        ("SearchResponse", Results),
        ("Suggestion", Suggestion),
    ]:
        names = {f.metadata.get("json") or f.name for f in dataclasses.fields(cls) if "schema" in f.metadata}
        assert set(SCHEMAS[name]["properties"]) == names, name
    assert set(Results(query="q", total=0, took_ms=0).as_dict()) == set(SCHEMAS["SearchResponse"]["properties"])


# -- the staff operations (kb/openapi_admin.py) ---------------------------------------

WRITE_REQUESTS = [
    # (method, template, path, body, headers, expected status)
    ("post", "/events", "/events", '{"type": "search", "q": "ivf"}', {}, 204),
    ("post", "/events", "/events", '{"type": "click", "q": "ivf", "id": "ivf", "position": 1}', {}, 204),
    ("post", "/events", "/events", '{"type": "click", "q": "ivf", "id": "ivf", "position": 1, "ip": "x"}', {}, 400),
    ("post", "/events", "/events", "not json", {}, 400),
    ("put", "/articles/{slug}", "/articles/openapi-new", "---\ntitle: Fresh\n---\n\nFresh text.\n", auth("write"), 201),
    ("put", "/articles/{slug}", "/articles/openapi-new", "---\ntitle: Fresh 2\n---\n\nMore.\n", auth("write"), 200),
    ("put", "/articles/{slug}", "/articles/openapi-new", "---\ntitle: [\n---\n", auth("write"), 422),
    ("put", "/articles/{slug}", "/articles/openapi-new", "x", {}, 401),
    ("put", "/articles/{slug}", "/articles/openapi-new", "x", auth("analytics"), 403),
    ("delete", "/articles/{slug}", "/articles/openapi-new", None, auth("write"), 200),
    ("delete", "/articles/{slug}", "/articles/openapi-new", None, auth("write"), 404),
    ("post", "/reindex", "/reindex", None, auth("write"), 200),
    ("post", "/reindex", "/reindex", None, {}, 401),
]


@pytest.mark.parametrize("method,template,path,body,headers,status", WRITE_REQUESTS)
def test_staff_operations_match_the_document(client, method, template, path, body, headers, status):
    r = client.simulate_request(method.upper(), path, body=body, headers=headers)
    assert r.status_code == status, r.text[:300]
    check_response(template, r, method)
