"""kb's engine with and without the semantic ranking stage: relevance, latency, memory.

    nice -n 10 python -m bench.hybrid_eval --index /tmp/wtfus/index \\
        --corpus ../shared/corpus/medquad --liveqa ../shared/corpus/liveqa

``--index`` is a generation built with vectors (``KB_SEMANTIC=on kb index``
over the corpus plus kb's articles).  Both engines search that one index: the
lexical one has no semantic stage (exactly what runs without the extra or with
``KB_SEMANTIC=off``), the hybrid one has it with the profile's parameters.
Reported: nDCG@10 per category of the development set (strict judgments, as
``bench/semantic_eval.py``), success@1 of the seed queries, a paired bootstrap
of ALL; LiveQA 2017 summaries at FAQ level, tune and check halves (the stage's
parameters were chosen before, so both halves are only scored here); the
search latency of the question-like queries one at a time on one thread
(p50/p95, result cache off) in both modes; the RSS of a fresh process after
one lexical search, then after one hybrid search (model loaded).

Figures from the corpus: MedQuAD, Ben Abacha & Demner-Fushman 2019, CC BY 4.0.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.semantic_eval import (
    ATTRIBUTION,
    REPO,
    fmt_table,
    hit_id,
    ndcg_per_query,
    paired_bootstrap,
    read_devset,
    read_liveqa,
    summarise,
)


def runs(engine, queries, kind=None):
    return {qid: [hit_id(h) for h in engine.search(q, limit=10, kind=kind).hits] for qid, _, q in queries}


def timings(engine, texts, rounds):
    times = []
    for _ in range(rounds):
        for q in texts:
            t = time.perf_counter()
            engine.search(q, limit=10)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50_ms": round(times[len(times) // 2], 2), "p95_ms": round(times[int(len(times) * 0.95)], 2)}


_RSS = r"""
import json, sys
def rss():
    return next(int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmRSS:"))
from kb.config import Config
from kb.search import Engine
from kb.semantic import loader_for
engine = Engine(sys.argv[1], reload_seconds=0, semantic=loader_for(Config(semantic="on")))
engine.search("uterine fibroids")
lexical = rss()
engine.search("can i get pregnant after two miscarriages in a row")
print(json.dumps({"rss_after_lexical_mb": round(lexical, 1), "rss_after_hybrid_mb": round(rss(), 1),
                  "mode": engine.health()["search"]}))
"""


def main(argv=None):
    from kb.config import Config
    from kb.search import Engine
    from kb.semantic import loader_for
    from kb.semantic.fusion import question_like

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--index", type=Path, required=True, help="an index of corpus + articles built with vectors")
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--devset", type=Path, default=REPO.parent / "shared" / "eval" / "devset.tsv")
    p.add_argument("--liveqa", type=Path)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--kb-eval", action="store_true", help="also kb eval's reports (site search, LiveQA) per engine")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "hybrid.json")
    args = p.parse_args(argv)

    lexical = Engine(args.index, reload_seconds=0, cache_mb=0)
    hybrid = Engine(args.index, reload_seconds=0, cache_mb=0, semantic=loader_for(Config(semantic="on")))
    mode = hybrid.health()["search"]
    assert mode["mode"] == "hybrid", f"the index has no usable vectors: {mode}"
    queries, qrels = read_devset(args.devset, args.corpus)
    scored = [q for q in queries if q[0] in qrels]
    out = {"attribution": ATTRIBUTION, "mode": mode, "profile": hybrid.profile.as_dict()}
    ranked = {name: runs(e, queries) for name, e in (("lexical", lexical), ("hybrid", hybrid))}
    per = {name: ndcg_per_query(qrels, r) for name, r in ranked.items()}
    rows = [summarise(name, per[name], scored, qrels, ranked[name]) for name in ("lexical", "hybrid")]
    out["devset"] = {"rows": rows, "hybrid_vs_lexical": paired_bootstrap(per["lexical"], per["hybrid"])}
    cats = sorted({c for _, c, _ in scored})
    out["devset"]["per_category_vs_lexical"] = {
        c: paired_bootstrap(
            {q: per["lexical"][q] for q, cc, _ in scored if cc == c},
            {q: per["hybrid"][q] for q, cc, _ in scored if cc == c},
        )
        for c in cats
    }
    print(f"nDCG@10 (strict) per category, dev set: the engine without and with the semantic stage ({mode['model']})")
    print(fmt_table(rows))
    b = out["devset"]["hybrid_vs_lexical"]
    print(
        f"ALL hybrid - lexical: {b['delta']:+.3f} (95 % CI {b['ci95'][0]:+.3f}..{b['ci95'][1]:+.3f}), "
        f"{b['up']} up, {b['down']} down"
    )
    for c, b in out["devset"]["per_category_vs_lexical"].items():
        print(
            f"  {c:9} {b['delta']:+.3f} (CI {b['ci95'][0]:+.3f}..{b['ci95'][1]:+.3f}), {b['up']} up, {b['down']} down"
        )
    if args.liveqa:
        lq, lq_qrels = read_liveqa(args.liveqa, args.corpus)
        lr = {name: runs(e, lq, kind="faq") for name, e in (("lexical", lexical), ("hybrid", hybrid))}
        lp = {name: ndcg_per_query(lq_qrels, r) for name, r in lr.items()}
        out["liveqa"] = {}
        for half in ("tune", "check"):
            qs = [q for q, h, _ in lq if h == half]
            base = {q: lp["lexical"][q] for q in qs}
            other = {q: lp["hybrid"][q] for q in qs}
            b = paired_bootstrap(base, other)
            out["liveqa"][half] = {
                "lexical": float(np.mean(list(base.values()))),
                "hybrid": float(np.mean(list(other.values()))),
                "vs": b,
                "n": len(qs),
            }
            print(
                f"LiveQA FAQ nDCG@10 {half} half ({len(qs)} q): {out['liveqa'][half]['lexical']:.3f} -> "
                f"{out['liveqa'][half]['hybrid']:.3f}, {b['delta']:+.3f} (CI {b['ci95'][0]:+.3f}..{b['ci95'][1]:+.3f})"
            )
    if args.kb_eval:
        from kb.evaluate import liveqa_report, sitesearch_report

        for name, e in (("lexical", lexical), ("hybrid", hybrid)):
            print(f"\n== kb eval's reports, {name} ==")
            print(sitesearch_report(e, REPO / "eval" / "sitesearch"), end="\n\n")
            if args.liveqa:
                print(liveqa_report(e, args.liveqa, args.corpus))
    gated = [q for _, _, q in queries if question_like(q)]
    others = [q for _, _, q in queries if not question_like(q)]
    for e in (lexical, hybrid):
        timings(e, gated[:10], 1)  # warm up: postings, the model
    out["latency"] = {
        "question_like": {
            "n": len(gated),
            "lexical": timings(lexical, gated, args.rounds),
            "hybrid": timings(hybrid, gated, args.rounds),
        },
        "other": {
            "n": len(others),
            "lexical": timings(lexical, others, args.rounds),
            "hybrid": timings(hybrid, others, args.rounds),
        },
    }
    for kind, v in out["latency"].items():
        print(
            f"search latency, {kind} queries ({v['n']}, one at a time, cache off): lexical p50 "
            f"{v['lexical']['p50_ms']} / p95 {v['lexical']['p95_ms']} ms; hybrid p50 {v['hybrid']['p50_ms']} / "
            f"p95 {v['hybrid']['p95_ms']} ms"
        )
    env = {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    rss = subprocess.run(
        [sys.executable, "-c", _RSS, str(args.index)], env=env, capture_output=True, text=True, check=True
    )
    out["rss"] = json.loads(rss.stdout)
    print(
        f"RSS of one process: {out['rss']['rss_after_lexical_mb']} MB after a lexical search, "
        f"{out['rss']['rss_after_hybrid_mb']} MB after a hybrid one"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2), "utf-8")
    print(f"({ATTRIBUTION})")


if __name__ == "__main__":
    main()
