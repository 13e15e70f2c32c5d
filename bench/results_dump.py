"""Dump what kb answers to a fixed set of searches, to prove a refactor changed nothing.

    python -m bench.results_dump --index /tmp/ix --out before.json \\
        --devset ../shared/eval/devset.tsv --liveqa ../shared/corpus/liveqa
    ... change the code, then the same command with --out after.json ...
    cmp before.json after.json

The searches: every query of the dev set (column ``query``), of
``eval/sitesearch/queries.tsv`` and of LiveQA (as sent, as summaries, as
paraphrases) with ``limit=10``; every third of them also grouped by article,
FAQ entries only, with an offset, articles only and sections grouped; every
fifth also as suggestions of its first 4, 9, 15 and all characters; a few
articles.  Each answer is dumped whole (ids, order, scores, snippets,
confidence, answer card, did-you-mean) except ``took_ms``.  Build the index once
(``--build ARTICLES_DIR``) and point both runs at it.  Figures from the corpus
carry its attribution: MedQuAD, Ben Abacha & Demner-Fushman 2019, CC BY 4.0.
"""

import argparse
import csv
import inspect
import json
import sys
from pathlib import Path

EXTRA = [
    "",
    " ",
    "?",
    "hsg",
    "hsg ",
    "recurrent misca",
    "recurrent misca.",
    "miscarrage",
    "endometriossis",
    "high blood pressure",
    "noonan syndrome",
    "what are the symptoms of noonan syndrome",
    "parking",
    "opening hours",
    "heart attack",
    "the of",
    "hi",
    "a",
    "diabetes, ",
    "diab",
    "x" * 50,
]


def read_queries(devset, liveqa, sitesearch):
    """The query texts, in a fixed order."""
    queries = []
    if devset:
        with open(devset, encoding="utf-8") as f:
            queries += [r["query"] for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    files = [sitesearch] if sitesearch and Path(sitesearch).exists() else []
    if liveqa:
        files += [Path(liveqa) / name for name in ("queries.tsv", "queries.summary.tsv", "queries.paraphrase.tsv")]
    for path in files:
        with open(path, encoding="utf-8") as f:
            queries += [parts[-1] for parts in (line.rstrip("\n").split("\t") for line in f) if len(parts) >= 2]
    return queries + EXTRA


def body(results):
    """The response body as the API sends it (before and after kb.presentation existed), without took_ms."""
    try:
        from kb.presentation import search_body
    except ImportError:  # before the search package
        d = results.as_dict()
    else:
        d = search_body(results)
    d.pop("took_ms")
    return d


def dump(engine, queries):
    """``{label|query: answer}`` for every search of the module docstring."""
    out = {f"plain|{q}": body(engine.search(q, limit=10)) for q in queries}
    for q in queries[::3] + EXTRA:
        out[f"group|{q}"] = body(engine.search(q, limit=10, group="article"))
        out[f"faq|{q}"] = body(engine.search(q, limit=10, kind="faq"))
        out[f"off|{q}"] = body(engine.search(q, limit=5, offset=7))
        out[f"art|{q}"] = body(engine.search(q, limit=3, kind="article", offset=1))
        out[f"sec|{q}"] = body(engine.search(q, limit=3, kind="section", group="article"))
    for q in queries[::5] + EXTRA:
        for typed in (q[:4], q[:9], q[:15], q):
            out[f"sugg|{typed}"] = engine.suggest(typed, limit=8)
            out[f"sugg3|{typed}"] = engine.suggest(typed, limit=3)
    for slug in ("recurrent-miscarriages", "medquad-ghr-0000465", "medquad-niddk-0000078"):
        try:
            out[f"article|{slug}"] = engine.article(slug)
        except Exception as e:  # noqa: BLE001 - a missing article is part of the answer
            out[f"article|{slug}"] = repr(e)
    health = engine.health()
    out["health"] = {k: v for k, v in health.items() if k not in ("built_at", "build_seconds")}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--index", type=Path, required=True, help="index directory (built with --build, or an existing one)")
    p.add_argument("--out", type=Path, required=True, help="JSON file to write")
    p.add_argument("--build", type=Path, metavar="ARTICLES_DIR", help="first build a full index of this directory")
    p.add_argument("--devset", type=Path, help="a TSV with a 'query' column (e.g. ../shared/eval/devset.tsv)")
    p.add_argument("--liveqa", type=Path, help="the LiveQA directory (queries.tsv, queries.summary.tsv, ...)")
    p.add_argument("--sitesearch", type=Path, default=Path("eval/sitesearch/queries.tsv"), help="site-search queries")
    args = p.parse_args(argv)
    if args.build:
        from kb.indexer import build

        print(build(args.build, args.index, full=True).summary(), file=sys.stderr)
    from kb.search import Engine

    no_cache = {"cache_mb": 0} if "cache_mb" in inspect.signature(Engine).parameters else {"cache_size": 0}
    engine = Engine(args.index, reload_seconds=0, **no_cache)
    try:
        answers = dump(engine, read_queries(args.devset, args.liveqa, args.sitesearch))
    finally:
        engine.close()
    args.out.write_text(json.dumps(answers, indent=0, sort_keys=True, default=str))
    print(f"{len(answers)} answers written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
