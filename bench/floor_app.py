"""The floor: a Falcon + waitress app that answers every search with constant JSON.

What the stack kb is built on costs per request when the search itself costs
nothing: HTTP parsing, waitress's threads, Falcon's routing, query-string
parsing and JSON serialisation of a response shaped and sized like kb's (ten
results with snippets).  bench/run.py loads it exactly as it loads ``kb serve``
(same threads, same paths, same load generator) and reports kb/floor ratios.

    python -m bench.floor_app --port 8099 --threads 8
"""

import argparse

import falcon
import waitress

_SNIPPET = (
    "Recurrent <mark>miscarriages</mark> refer to the loss of two or more consecutive "
    "pregnancies before 20 weeks. Many couples go on to have a successful pregnancy; "
    "tests look for causes that can be treated, such as problems of the uterus or blood "
    "clotting, and a specialist explains what each result means …"
)

#: One constant body, shaped like kb's ``GET /search`` answer.
RESPONSE = {
    "query": "floor",
    "total": 10,
    "took_ms": 0.0,
    "limit": 10,
    "offset": 0,
    "generation": "gen-floor",
    "results": [
        {
            "id": f"floor-article-{n}#what-is-it",
            "kind": "faq",
            "slug": f"floor-article-{n}",
            "title": "What is (are) Recurrent Miscarriages?",
            "title_html": "What is (are) Recurrent <mark>Miscarriages</mark>?",
            "article_title": "Recurrent Miscarriages",
            "url": f"/articles/floor-article-{n}#what-is-it",
            "snippet": _SNIPPET,
            "score": 21.4 - n,
        }
        for n in range(10)
    ],
}


class SearchResource:
    """``GET /search``: reads ``q`` and ``limit`` as kb does, answers :data:`RESPONSE`."""

    def on_get(self, req, resp):
        req.get_param("q", required=True)
        req.get_param_as_int("limit", min_value=1, max_value=50, default=10)
        resp.media = RESPONSE


class HealthResource:
    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


def create_app():
    app = falcon.App()
    app.add_route("/search", SearchResource())
    app.add_route("/health", HealthResource())
    return app


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    waitress.serve(create_app(), host=args.host, port=args.port, threads=args.threads, ident="floor")


if __name__ == "__main__":
    main()
