"""kb's benchmark: index build, in-process search, HTTP load, memory, the floor.

    python -m bench.run --corpus ../shared/corpus/medquad --liveqa ../shared/corpus/liveqa
    python -m bench.run ... --quick          # a subset, shorter loads: about 2 minutes

Prints a plain-text table with each figure beside its target (``pass``/``MISS``)
and writes every figure, the method's parameters and the machine's facts as
JSON (``bench/results/latest.json`` unless ``--out``).  See bench/README.md for
what each figure means and how it is measured.

The corpus is never copied into the repository: the index is built in a
temporary directory (outside the repository) from symbolic links to the
corpus files; only the one article edited for the incremental build is copied
there.  Everything temporary is removed at the end unless ``--keep``.
"""

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from . import load, queries

REPO = Path(__file__).resolve().parent.parent
ATTRIBUTION = "MedQuAD, Ben Abacha & Demner-Fushman 2019, CC BY 4.0"

#: The targets of the speed issue: (key, label, comparison, threshold, unit).
#: The figures of a running server are judged once per ``kb serve`` setting.
TARGETS = [
    ("full_build_s", "full reindex", "<=", 20, "s"),
    ("incremental_searchable_s", "incremental: edit searchable (in-process build)", "<=", 2, "s"),
    ("incremental_cli_searchable_s", "incremental: edit searchable (`kb index` subprocess)", "<=", 2, "s"),
    ("long_whole_p95", "long questions (LiveQA whole), in-process: p95", "<=", 40, "ms"),
    ("long_summary_p95", "long questions (LiveQA summary), in-process: p95", "<=", 40, "ms"),
]
SERVER_TARGETS = [
    ("http_uncached_c1_p50", "search-box over HTTP, uncached, c=1: p50", "<=", 5, "ms"),
    ("http_uncached_c1_p95", "search-box over HTTP, uncached, c=1: p95", "<=", 20, "ms"),
    ("http_uncached_c1_p99", "search-box over HTTP, uncached, c=1: p99", "<=", 50, "ms"),
    ("http_long_c1_p95", "long questions over HTTP, c=1: p95", "<=", 40, "ms"),
    ("http_uncached_c8_rps", "throughput c=8, uncached", ">=", 340, "req/s"),
    ("http_zipf_c8_floor_ratio", "throughput c=8, Zipf mix, share of floor", ">=", 50, "%"),
    ("peak_rss_mb", "peak RSS, sum over the server's processes", "<=", 300, "MB"),
]


def log(message):
    """Progress on stderr, so stdout holds only the table."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- machine facts -----------------------------------------------------------------


def machine_facts():
    """What the figures were measured on, and which kb."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""

    versions = {}
    for dist in ("whoosh-reloaded", "falcon", "waitress", "Markdown", "PyYAML"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
        "kb_commit": git("rev-parse", "--short", "HEAD").strip(),
        "kb_uncommitted": [ln[3:] for ln in git("status", "--porcelain", "--", "kb").splitlines()],
        "packages": versions,
        "wrk": load.wrk_version(),
    }


# -- 1. index build ------------------------------------------------------------------


def link_corpus(files, corpus_dir, articles_dir):
    """A directory of symbolic links to the corpus files (same relative paths)."""
    for src in files:
        dst = articles_dir / src.relative_to(corpus_dir)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(src.resolve(), dst)


def nonsense_word(rng):
    """A word in no dictionary that every analyzer keeps as it is (no vowels, no s)."""
    return "zqx" + "".join(rng.choice("bcdfghjklmnpqrtvwxz") for _ in range(9))


def append_to_first_answer(text, word):
    """``text`` with ``word`` appended to the last line of its first FAQ answer."""
    lines = text.split("\n")
    in_faq, question = False, None
    for i, line in enumerate(lines):
        if line.startswith("## "):
            if question is not None:
                break
            in_faq = line[3:].strip().lower() in {"frequently asked questions", "faq", "faqs"}
        elif line.startswith("### ") and in_faq:
            if question is not None:
                break
            question = i
    else:
        i = len(lines)
    if question is None:
        raise ValueError("no FAQ question")
    last = max((j for j in range(question + 1, i) if lines[j].strip()), default=None)
    if last is None:
        raise ValueError("empty FAQ answer")
    lines[last] = lines[last].rstrip() + " " + word
    return "\n".join(lines)


def article_slug(path):
    """The slug kb gives an article: front matter ``slug:`` or the file name."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r"^slug:[ \t]*[\"']?([a-z0-9_-]+)", text[: text.find("\n---", 3)], re.MULTILINE)
    return m.group(1) if m else path.stem


def edit_one_article(articles_dir, files, corpus_dir, pick, word):
    """Replace the ``pick``-th link that has a FAQ answer by an edited copy.

    :returns: ``(relative path, slug)`` of the edited article.
    """
    for src in files[pick:] + files[:pick]:
        link = articles_dir / src.relative_to(corpus_dir)
        try:
            edited = append_to_first_answer(link.read_text(encoding="utf-8"), word)
        except ValueError:
            continue
        slug = article_slug(link)
        link.unlink()  # a symlink, or the copy of an earlier edit
        link.write_text(edited, encoding="utf-8")
        return link.relative_to(articles_dir).as_posix(), slug
    raise RuntimeError("no article with a FAQ answer to edit")


def wait_searchable(engine, word, slug, timeout=60.0, poll=0.01):
    """Poll ``engine`` until searching ``word`` finds article ``slug``; the time found."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if any(h.slug == slug for h in engine.search(word, limit=10).hits):
            return time.perf_counter()
        time.sleep(poll)
    return None


def bench_build(args, files, articles_dir, index_dir):
    """Full build, then two incremental builds of one edited article."""
    from kb.indexer import build
    from kb.search import Engine

    out = {}
    log(f"full build of {len(files)} articles ...")
    t0 = time.perf_counter()
    report = build(articles_dir, index_dir, full=True)
    seconds = time.perf_counter() - t0
    counts = {k: getattr(report, k, 0) or 0 for k in ("articles", "sections", "faqs")}
    out["full"] = {
        "seconds": seconds,
        **counts,
        "documents": sum(counts.values()),
        "problems": len(getattr(report, "problems", [])),
        "generation": getattr(report, "generation", ""),
        "bench_process_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    log(f"full build: {seconds:.1f} s, {out['full']['documents']} documents")

    # A running engine (as in `kb serve`) that already serves the generation.
    engine = Engine(index_dir)
    engine.search("warm up", limit=10)
    rng = random.Random()  # a fresh word each run: never already in an index
    pick = len(files) // 2

    word = nonsense_word(rng)
    rel, slug = edit_one_article(articles_dir, files, args.corpus, pick, word)
    log(f"incremental build in-process: {rel} + {word!r} ...")
    t0 = time.perf_counter()
    report = build(articles_dir, index_dir)
    built = time.perf_counter()
    found = wait_searchable(engine, word, slug)
    out["incremental"] = {
        "article": rel,
        "word": word,
        "mode": getattr(report, "mode", "?"),
        "changed": getattr(report, "changed", None),
        "build_seconds": built - t0,
        "searchable_seconds": found - t0 if found else None,
    }

    word = nonsense_word(rng)
    rel, slug = edit_one_article(articles_dir, files, args.corpus, pick + 1, word)
    argv = [sys.executable, "-m", "kb", "index", "--articles", str(articles_dir), "--index", str(index_dir), "--quiet"]
    log(f"incremental build via `kb index`: {rel} + {word!r} ...")
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=600)
    exited = time.perf_counter()
    found = wait_searchable(engine, word, slug)
    out["incremental_cli"] = {
        "article": rel,
        "word": word,
        "command": " ".join(["python"] + argv[1:]),
        "returncode": proc.returncode,
        "summary": (proc.stdout.strip().splitlines() or [""])[-1],
        "stderr": proc.stderr.strip()[-2000:],
        "exit_seconds": exited - t0,
        "searchable_seconds": found - t0 if found else None,
    }
    engine.close()
    return out


# -- 2. in-process search ------------------------------------------------------------


def time_queries(engine, qs, budget):
    """Search each query once; per-query latency, results count, slowest queries."""
    times, empty, started = [], 0, time.perf_counter()
    for q in qs:
        if time.perf_counter() - started > budget:
            break
        t0 = time.perf_counter()
        results = engine.search(q, limit=10)
        times.append((time.perf_counter() - t0, q))
        empty += results.total == 0
    stats = load.summarize_ms([t for t, _ in times])
    stats.update(
        queries=len(qs),
        budget_hit=len(times) < len(qs),
        no_results=empty,
        slowest=[[round(t * 1000, 1), q[:80]] for t, q in sorted(times, reverse=True)[:5]],
    )
    return stats


def bench_search(args, index_dir, sets, warmup):
    """In-process latency of ``Engine.search(q, limit=10)`` per query set."""
    from kb.search import Engine

    engine = Engine(index_dir)
    log(f"in-process warm-up: {len(warmup)} queries not measured ...")
    time_queries(engine, warmup, args.search_budget)
    out = {}
    for name, qs in sets.items():
        log(f"in-process search: {name} ({len(qs)} queries) ...")
        out[name] = time_queries(engine, qs, args.search_budget)
    engine.close()
    return out


# -- 3-5. HTTP, memory, floor ----------------------------------------------------------


def kb_serve_flags():
    """The flags ``kb serve`` accepts (read from its --help: kb is changing)."""
    proc = subprocess.run([sys.executable, "-m", "kb", "serve", "--help"], cwd=REPO, capture_output=True, text=True)
    return set(re.findall(r"--[a-z][a-z-]+", proc.stdout))


def write_paths(path, qs):
    path.write_text("".join(queries.search_path(q) + "\n" for q in qs), encoding="utf-8")
    return path


def bench_http(args, tmp, index_dir, articles_dir, pool, search_box, long_qs):
    """The floor first (its throughput sizes the uncached sets), then kb per workers setting.

    Every kb server starts with empty caches, so the same disjoint slices of the
    search-box pool serve as "uncached" requests for each workers setting.
    """
    generator = args.load_generator
    if generator == "auto":
        generator = "wrk" if load.wrk_available() else "python"
    duration = args.duration
    out = {"generator": generator, "wrk": load.wrk_version() if generator == "wrk" else None}
    out.update(threads=args.threads, duration_s=duration)

    zipf_n = max(20_000, int(2000 * duration))
    zipf_file = write_paths(tmp / "zipf.txt", queries.zipf_sequence(search_box, zipf_n, s=args.zipf_s, seed=args.seed))
    long_file = write_paths(tmp / "long.txt", long_qs)
    out["zipf"] = {"s": args.zipf_s, "vocabulary": len(search_box), "sequence": zipf_n}

    # 5. The floor: constant JSON from the same stack, same threads, same paths.
    port = load.free_port()
    argv = [sys.executable, "-m", "bench.floor_app", "--port", str(port), "--threads", str(args.threads)]
    log(f"floor app on port {port}: c=1 and c=8, {duration:g} s each ({generator}) ...")
    with load.Server(argv, port, cwd=REPO, log_path=tmp / "floor.log") as server:
        server.wait_ready("/health")
        load.run_load(server.base_url, zipf_file, 8, min(2, duration), "cycle", generator)  # warm-up
        floor = {}
        for c in (1, 8):
            floor[f"c{c}"] = load.run_load(server.base_url, zipf_file, c, duration, "cycle", generator).as_dict()
        floor["memory_mb"] = server.memory_mb()
    out["floor"] = floor

    # Disjoint slices of distinct queries: warm-up, uncached c=1, uncached c=8.
    # Each is sized to outlast the run even at the floor's rate (capped at
    # 2,000 requests/s: a run that uses its slice up ends early, and its rate
    # is taken over the time it was sending).
    warm_file = write_paths(tmp / "warm.txt", pool.take(args.threads * 40))
    uncached = {}
    for c in (1, 8):
        n = min(int(2000 * duration), int(floor[f"c{c}"]["rps"] * duration * 1.25) + 100)
        uncached[c] = write_paths(tmp / f"uncached-c{c}.txt", pool.take(n))
    out["uncached_paths"] = {f"c{c}": sum(1 for _ in open(f)) for c, f in uncached.items()}

    flags = kb_serve_flags()
    workers_list = [None]
    if "--workers" in flags:
        workers_list = args.workers or [1, len(os.sched_getaffinity(0))]
    out["kb_serve_flags"] = sorted(flags)
    out["kb"] = []
    for workers in workers_list:
        port = load.free_port()
        argv = [sys.executable, "-m", "kb", "serve", "--index", str(index_dir), "--port", str(port)]
        if "--articles" in flags:
            argv += ["--articles", str(articles_dir)]
        if "--threads" in flags:
            argv += ["--threads", str(args.threads)]
        if workers is not None:
            argv += ["--workers", str(workers)]
        label = f"workers={workers}" if workers is not None else "one process"
        log(f"kb serve ({label}) on port {port} ...")
        entry = {"workers": workers, "command": " ".join(["python"] + argv[1:]), "runs": {}}
        with load.Server(argv, port, cwd=REPO, log_path=tmp / f"kb-serve-{workers}.log") as server:
            server.wait_ready("/health")
            status, body = server.get_json(queries.search_path(search_box[0]))
            entry["sanity"] = {"query": search_box[0], "status": status, "total": body.get("total")}
            load.run_load(server.base_url, warm_file, args.threads, min(3, duration), "once", generator)
            runs = entry["runs"]
            for c in (1, 8):
                log(f"  uncached c={c}: distinct queries, {duration:g} s ...")
                runs[f"uncached_c{c}"] = load.run_load(
                    server.base_url, uncached[c], c, duration, "once", generator
                ).as_dict()
            for c in (1, 8):
                log(f"  Zipf mix c={c}, {duration:g} s ...")
                runs[f"zipf_c{c}"] = load.run_load(
                    server.base_url, zipf_file, c, duration, "cycle", generator
                ).as_dict()
            log(f"  long questions c=1, {len(long_qs)} distinct, at most {duration:g} s ...")
            runs["long_c1"] = load.run_load(server.base_url, long_file, 1, duration, "once", generator).as_dict()
            entry["memory_mb"] = server.memory_mb()
        out["kb"].append(entry)
    return out


# -- targets and the table ----------------------------------------------------------------


def figures(results):
    """The figures the targets are about: ``(common, [(workers, server figures)])``."""
    b, s, h = results.get("build", {}), results.get("search", {}), results.get("http", {})
    common = {
        "full_build_s": b.get("full", {}).get("seconds"),
        "incremental_searchable_s": b.get("incremental", {}).get("searchable_seconds"),
        "incremental_cli_searchable_s": b.get("incremental_cli", {}).get("searchable_seconds"),
        "long_whole_p95": s.get("liveqa_whole", {}).get("p95"),
        "long_summary_p95": s.get("liveqa_summary", {}).get("p95"),
    }
    servers = []
    for entry in h.get("kb", []):
        runs = entry["runs"]
        servers.append(
            (
                entry["workers"],
                {
                    "http_uncached_c1_p50": runs["uncached_c1"]["p50"],
                    "http_uncached_c1_p95": runs["uncached_c1"]["p95"],
                    "http_uncached_c1_p99": runs["uncached_c1"]["p99"],
                    "http_long_c1_p95": runs["long_c1"]["p95"],
                    "http_uncached_c8_rps": runs["uncached_c8"]["rps"],
                    "http_zipf_c8_floor_ratio": 100 * runs["zipf_c8"]["rps"] / h["floor"]["c8"]["rps"],
                    "peak_rss_mb": entry["memory_mb"]["total"],
                },
            )
        )
    return common, servers


def judge(value, op, threshold):
    if value is None:
        return "n/a"
    return "pass" if (value <= threshold if op == "<=" else value >= threshold) else "MISS"


def fmt(value, unit=""):
    if value is None:
        return "-"
    if unit in ("req/s", "MB", "%"):
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def render(results):
    """The plain-text report."""
    m, cfg = results["machine"], results["config"]
    lines = [
        f"kb benchmark  {m['date']}",
        f"machine: {m['cpu_model']}; {m['nproc']} CPUs; {m['ram_gib']} GiB; Python {m['python']};"
        f" load average {m['load_average'][0]:.1f} at the start, {results.get('load_average_end', [0])[0]:.1f} at the end",
        f"kb: {m['kb_commit']}" + (f" + uncommitted {', '.join(m['kb_uncommitted'])}" if m["kb_uncommitted"] else ""),
        f"corpus: {cfg['corpus']} ({results['corpus']['articles']} articles; {ATTRIBUTION})",
        "",
    ]
    b = results.get("build")
    if b:
        full, inc, cli = b["full"], b["incremental"], b["incremental_cli"]
        lines += [
            "1. Index build",
            f"  full build: {full['articles']} articles, {full['sections']} sections, {full['faqs']} FAQ entries"
            f" = {full['documents']} documents, {full['problems']} problems",
            f"  {'full build':<48} {fmt(full['seconds'])} s",
            f"  {'incremental build (1 article, in-process)':<48} {fmt(inc['build_seconds'])} s  (mode {inc['mode']})",
            f"  {'  ... edit searchable in a running Engine':<48} {fmt(inc['searchable_seconds'])} s",
            f"  {'`kb index` subprocess (startup included)':<48} {fmt(cli['exit_seconds'])} s  (exit {cli['returncode']})",
            f"  {'  ... edit searchable in a running Engine':<48} {fmt(cli['searchable_seconds'])} s",
            "  (a running Engine looks for a new generation every reload_seconds: 1 s by default, as in `kb serve`)",
            "",
        ]
    s = results.get("search")
    if s:
        lines += [
            "2. In-process search: Engine.search(q, limit=10), snippets included (ms)",
            f"  {'query set':<30} {'n':>5} {'empty':>5} {'mean':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}",
        ]
        for name, st in s.items():
            n = f"{st['n']}" + ("*" if st["budget_hit"] else "")
            lines.append(
                f"  {name:<30} {n:>5} {st['no_results']:>5} {fmt(st.get('mean')):>8} {fmt(st.get('p50')):>8}"
                f" {fmt(st.get('p95')):>8} {fmt(st.get('p99')):>8} {fmt(st.get('max')):>8}"
            )
        if any(st["budget_hit"] for st in s.values()):
            lines.append(f"  * stopped at the time budget of {cfg['search_budget']:g} s per set")
        for name, st in s.items():
            slow = "; ".join(f"{q!r} {t:g} ms" for t, q in st["slowest"][:3])
            lines.append(f"  slowest {name}: {slow}")
        lines.append("")
    h = results.get("http")
    if h:
        gen = h["generator"] + (
            f" ({h['wrk']}, 1 thread)" if h["generator"] == "wrk" else " (Python fallback: threads + http.client)"
        )
        lines += [
            f"3. HTTP on 127.0.0.1: load generator {gen}; {h['duration_s']:g} s per run; server threads {h['threads']}",
            f"  {'run':<34} {'req/s':>7} {'mean':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>8} {'errors':>6}  (ms)",
        ]

        def row(name, r, extra=""):
            return (
                f"  {name:<34} {r['rps']:>7.0f} {fmt(r['mean']):>7} {fmt(r['p50']):>7} {fmt(r['p95']):>7}"
                f" {fmt(r['p99']):>7} {fmt(r['max']):>8} {r['errors']:>6}{extra}"
            )

        floor = h["floor"]
        for entry in h["kb"]:
            w = f" workers={entry['workers']}" if entry["workers"] is not None else ""
            lines.append(f"  kb serve{w}: {entry['command']}")
            names = {
                "uncached_c1": "search-box uncached c=1",
                "uncached_c8": "search-box uncached c=8",
                "zipf_c1": f"Zipf mix (s={h['zipf']['s']}) c=1",
                "zipf_c8": f"Zipf mix (s={h['zipf']['s']}) c=8",
                "long_c1": "long questions c=1",
            }
            for key, name in names.items():
                r = entry["runs"][key]
                extra = f"  ({r['requests']} requests" + (", all paths used" if r["out_of_paths"] else "") + ")"
                lines.append(row(name, r, extra))
            sanity = entry["sanity"]
            lines.append(f"  sanity: /search?q={sanity['query']} -> {sanity['status']}, total {sanity['total']}")
        lines.append("  floor (bench/floor_app.py, constant JSON, same threads):")
        for c in (1, 8):
            lines.append(row(f"floor c={c}", floor[f"c{c}"]))
        lines.append("")
        lines.append("  throughput kb / floor:")
        for entry in h["kb"]:
            w = f" (workers={entry['workers']})" if entry["workers"] is not None else ""
            ratios = ", ".join(
                f"{key.replace('_', ' ')} {100 * entry['runs'][key]['rps'] / floor[key[-2:]]['rps']:.0f}%"
                for key in ("uncached_c1", "uncached_c8", "zipf_c1", "zipf_c8")
            )
            lines.append(f"    {ratios}{w}")
        lines.append("")
        lines.append("4. Memory of the server after the load (VmHWM: peak resident set; Pss: now, shared pages split)")
        for entry in h["kb"]:
            p = entry["memory_mb"]
            w = f" workers={entry['workers']}" if entry["workers"] is not None else ""
            lines.append(
                f"  kb serve{w}: peak {p['total']:.0f} MB summed over {p['processes']} process(es),"
                f" largest {p['largest']:.0f} MB; Pss now {p['pss_now']:.0f} MB"
            )
        lines.append(f"  floor app: peak {floor['memory_mb']['total']:.0f} MB")
        lines.append("")
    lines.append("Targets")
    for t in target_results(results):
        sign = {"<=": "≤", ">=": "≥"}[t["op"]]
        label = t["label"] + (f" [workers={t['workers']}]" if t["workers"] is not None else "")
        lines.append(
            f"  {label:<66} {fmt(t['value'], t['unit']):>8} {t['unit']:<5} {sign} {t['target']:<4} {t['result']}"
        )
    return "\n".join(lines)


def target_results(results):
    """One dict per target: its figure, the threshold and ``pass``, ``MISS`` or ``n/a``."""
    common, servers = figures(results)
    judged = [(None, TARGETS, common)] + [(workers, SERVER_TARGETS, fig) for workers, fig in servers]
    return [
        {
            "key": key,
            "label": label,
            "workers": workers,
            "value": fig.get(key),
            "op": op,
            "target": threshold,
            "unit": unit,
            "result": judge(fig.get(key), op, threshold),
        }
        for workers, targets, fig in judged
        for key, label, op, threshold, unit in targets
    ]


# -- main ----------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark kb: index build, in-process search, HTTP load, memory, and the floor.",
        epilog="Example:\n  python -m bench.run --corpus ../shared/corpus/medquad --liveqa ../shared/corpus/liveqa --quick",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--corpus", type=Path, required=True, help="directory of Markdown articles (read, never copied)")
    p.add_argument("--liveqa", type=Path, required=True, help="LiveQA directory with queries.tsv, queries.summary.tsv")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "latest.json", help="JSON results file")
    p.add_argument("--quick", action="store_true", help="a subset and shorter loads: about 2 minutes")
    p.add_argument("--limit-articles", type=int, help="index only the first N articles (default: all; --quick: 800)")
    p.add_argument("--queries", type=int, help="search-box queries measured in-process (default 300; --quick 100)")
    p.add_argument("--long-limit", type=int, help="LiveQA questions per file (default all 104; --quick 30)")
    p.add_argument("--duration", type=float, help="seconds per HTTP load run (default 10; --quick 3)")
    p.add_argument(
        "--search-budget", type=float, help="seconds at most per in-process query set (default 90; --quick 20)"
    )
    p.add_argument("--threads", type=int, default=8, help="server threads, kb and floor (default 8)")
    p.add_argument(
        "--workers",
        type=lambda s: [int(x) for x in s.split(",")],
        help="kb serve --workers settings to measure, e.g. 1,2 (default: 1,nproc if kb serve has --workers)",
    )
    p.add_argument("--zipf-s", type=float, default=1.1, help="Zipf exponent of the repeated-query mix (default 1.1)")
    p.add_argument("--seed", type=int, default=queries.SEED, help="seed of every query generator")
    p.add_argument(
        "--load-generator", choices=("auto", "wrk", "python"), default="auto", help="default: wrk if installed"
    )
    p.add_argument("--no-http", action="store_true", help="skip sections 3-5 (HTTP, memory, floor)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (index, logs, path files)")
    args = p.parse_args(argv)
    defaults = {
        "limit_articles": (None, 800),
        "queries": (300, 100),
        "long_limit": (None, 30),
        "duration": (10.0, 3.0),
        "search_budget": (90.0, 20.0),
    }
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    args.corpus, args.liveqa = args.corpus.resolve(), args.liveqa.resolve()
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    if REPO in args.corpus.parents or args.corpus == REPO:
        log("note: the corpus is inside the repository; it is only read, through links")
    files = queries.article_files(args.corpus, args.limit_articles)
    if not files:
        sys.exit(f"bench: no *.md files in {args.corpus}")
    results = {
        "machine": machine_facts(),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "corpus": {"path": str(args.corpus), "articles": len(files), "attribution": ATTRIBUTION},
    }
    log(f"reading titles and questions of {len(files)} articles ...")
    text = queries.read_corpus_text(files)
    pool = queries.SearchBoxPool(text, seed=args.seed)
    search_box = pool.take(args.queries)
    warmup_box = pool.take(100)
    whole = queries.liveqa_questions(args.liveqa, "queries.tsv")[: args.long_limit]
    summary = queries.liveqa_questions(args.liveqa, "queries.summary.tsv")[: args.long_limit]
    measured = set(whole) | set(summary)
    paraphrase = [q for q in queries.liveqa_questions(args.liveqa, "queries.paraphrase.tsv") if q not in measured]
    results["queries"] = {
        "seed": args.seed,
        "search_box": len(search_box),
        "search_box_examples": search_box[:20],
        "warmup": {"search_box": len(warmup_box), "liveqa_paraphrase": len(paraphrase[: args.long_limit])},
        "liveqa_whole": len(whole),
        "liveqa_summary": len(summary),
    }

    tmp = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    articles_dir, index_dir = tmp / "articles", tmp / "index"
    log(f"temporary directory {tmp}")
    try:
        link_corpus(files, args.corpus, articles_dir)
        results["build"] = bench_build(args, files, articles_dir, index_dir)
        sets = {"search_box": search_box, "liveqa_whole": whole, "liveqa_summary": summary}
        results["search"] = bench_search(args, index_dir, sets, warmup_box + paraphrase[: args.long_limit])
        if not args.no_http:
            long_mix = [q for pair in zip(summary, whole) for q in pair]
            results["http"] = bench_http(args, tmp, index_dir, articles_dir, pool, search_box, long_mix)
    finally:
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    results["load_average_end"] = os.getloadavg()
    results["targets"] = target_results(results)
    results["seconds"] = time.perf_counter() - started
    table = render(results)
    results["table"] = table
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    print(table)
    print(f"\n(whole run {results['seconds']:.0f} s; JSON: {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
