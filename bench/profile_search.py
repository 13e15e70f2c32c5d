"""Profile in-process search: where do the search-box queries spend their time?

Runs the benchmark's first ``--n`` search-box queries (the same ones
``bench.run`` measures, after the same kind of warm-up) under cProfile and
prints the functions that took the most time.

    python -m bench.profile_search --corpus ../shared/corpus/medquad --index /tmp/kb-bench-xxx/index
    python -m bench.profile_search --corpus ../shared/corpus/medquad          # builds a temporary index first

``--index`` takes an index directory that holds a generation (``bench.run
--keep`` leaves one); without it the corpus is indexed into a temporary
directory, through links, as bench.run does.
"""

import argparse
import cProfile
import io
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import queries
from .run import link_corpus


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.profile_search", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, required=True, help="the articles the queries are taken from")
    p.add_argument("--index", type=Path, help="an index directory with a current generation (default: build one)")
    p.add_argument("--limit-articles", type=int, help="use the first N articles only")
    p.add_argument("--n", type=int, default=100, help="search-box queries to profile (default 100)")
    p.add_argument("--top", type=int, default=30, help="functions to list (default 30)")
    p.add_argument("--sort", default="tottime", help="pstats sort key: tottime (default), cumulative, ...")
    p.add_argument("--seed", type=int, default=queries.SEED)
    p.add_argument("--out", type=Path, help="also save the raw profile here (for snakeviz, pstats)")
    args = p.parse_args(argv)

    from kb.indexer import build
    from kb.search import Engine

    corpus = args.corpus.resolve()
    files = queries.article_files(corpus, args.limit_articles)
    pool = queries.SearchBoxPool(queries.read_corpus_text(files), seed=args.seed)
    measured, warmup = pool.take(args.n), pool.take(100)

    tmp = None
    index_dir = args.index
    try:
        if index_dir is None:
            tmp = Path(tempfile.mkdtemp(prefix="kb-profile-"))
            link_corpus(files, corpus, tmp / "articles")
            index_dir = tmp / "index"
            print(f"building a temporary index of {len(files)} articles ...", file=sys.stderr)
            build(tmp / "articles", index_dir, full=True)
        engine = Engine(index_dir)
        for q in warmup:
            engine.search(q, limit=10)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for q in measured:
            engine.search(q, limit=10)
        profiler.disable()
        seconds = time.perf_counter() - started
        engine.close()
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"{len(measured)} search-box queries in {seconds * 1000:.0f} ms under cProfile "
        f"({seconds * 1000 / max(len(measured), 1):.1f} ms per query, profiler overhead included)"
    )
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())
    if args.out:
        profiler.dump_stats(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
