"""Running a set's queries through the engine, and saving and loading runs.

A :class:`Run` is one view of one set: for each query the ranked document ids,
the confidence and total the engine gave, and the metrics.  ``save`` writes it
as a TREC run file (``<set>.<view>.trec``) beside a JSON file of per-query
metrics (``<set>.<view>.json``); ``load_dir`` reads a directory of them back for
``kb eval --compare``.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from . import metrics

K = 10
MODES = {"mixed": {}, "article": {"group": "article"}, "faq": {"kind": "faq"}}


@dataclass
class Run:
    """One view of one set, run and scored."""

    set: str
    view: str
    title: str
    queries: dict  # qid -> Query
    rankings: dict  # qid -> [docid]
    answers: dict  # qid -> {"confidence": str, "total": int}
    scores: dict = field(default_factory=dict)  # qid -> {metric: value}, judged queries only

    @property
    def key(self):
        return f"{self.set}.{self.view}"


def hit_id(hit, ids):
    """The document id a hit is judged by.

    ``strict``: an FAQ entry is ``slug#qN`` (N its heading order), an article its
    slug, a section its own id (``slug#anchor``); ``page``: the hit's article.
    """
    if ids == "page":
        return hit.slug
    if hit.kind == "faq":
        return f"{hit.slug}#q{hit.position}"
    if hit.kind == "article":
        return hit.slug
    return hit.id


def run_view(search, qset, view, cache=None, k=K):
    """Ask ``search`` (``Engine.search``) every query of ``qset`` in ``view`` and score it.

    :param cache: a dict shared between views, so views of one mode ask once.
    """
    cache = {} if cache is None else cache
    rankings, answers = {}, {}
    for qid, q in qset.queries.items():
        key = (view.mode, q.text)
        if key not in cache:
            cache[key] = search(q.text, limit=k, **MODES[view.mode])
        results = cache[key]
        rankings[qid] = list(dict.fromkeys(hit_id(h, view.ids) for h in results.hits))
        answers[qid] = {"confidence": results.confidence, "total": results.total}
    run = Run(qset.name, view.name, view.title, qset.queries, rankings, answers)
    run.scores = metrics.score(view.qrels, rankings)
    return run


def run_set(search, qset, k=K):
    """Every view of ``qset``: a list of :class:`Run`."""
    cache = {}
    return [run_view(search, qset, view, cache, k) for view in qset.views]


# -- files -----------------------------------------------------------------


def write_trec(path, run, tag="kb"):
    """A TREC run file: ``qid Q0 docid rank score tag``, scores derived from ranks."""
    with open(path, "w", encoding="utf-8") as f:
        for qid, ids in run.rankings.items():
            for rank, docid in enumerate(ids, 1):
                f.write(f"{qid} Q0 {docid} {rank} {len(ids) - rank + 1} {tag}\n")


def read_trec(path):
    """``{qid: [docid]}`` in rank order from a TREC run file."""
    rows = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 6:
                raise ValueError(f"{path}:{n}: expected 'qid Q0 docid rank score tag'")
            rows.setdefault(parts[0], []).append((int(parts[3]), parts[2]))
    return {q: [d for _, d in sorted(r)] for q, r in rows.items()}


def save(run, directory, tag="kb"):
    """Write ``<set>.<view>.trec`` and ``<set>.<view>.json`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    write_trec(directory / f"{run.key}.trec", run, tag)
    doc = {
        "set": run.set,
        "view": run.view,
        "title": run.title,
        "metrics": list(metrics.NAMES),
        "queries": {
            qid: {
                "category": q.category,
                "text": q.text,
                **run.answers.get(qid, {}),
                "metrics": run.scores.get(qid),
            }
            for qid, q in run.queries.items()
        },
    }
    (directory / f"{run.key}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def load_dir(directory):
    """``{key: Run}`` from a directory written by :func:`save`."""
    from .sets import Query

    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such run directory")
    runs = {}
    for path in sorted(directory.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if "view" not in doc or "queries" not in doc:
            continue  # not a run (e.g. meta.json)
        trec = path.with_suffix(".trec")
        rankings = read_trec(trec) if trec.exists() else {}
        entries = doc["queries"]
        run = Run(
            doc["set"],
            doc["view"],
            doc.get("title", ""),
            {q: Query(q, e["category"], e["text"]) for q, e in entries.items()},
            {q: rankings.get(q, []) for q in entries},
            {q: {"confidence": e.get("confidence"), "total": e.get("total")} for q, e in entries.items()},
            {q: e["metrics"] for q, e in entries.items() if e.get("metrics")},
        )
        runs[run.key] = run
    return runs
