"""What fsyncing a generation before publishing it costs: builds with and without the sync.

    nice -n 10 python -m bench.durability --corpus ../shared/corpus/medquad [--rounds 2]

Builds the corpus fully, then incrementally after editing one article, with
:func:`kb.generations.sync_generation` as shipped and with it replaced by a
no-op, alternating (sync, no sync, sync, ...) so load on the machine falls on
both alike.  Prints wall time per build and the time spent inside the sync.
The corpus is never copied: the articles directory is symbolic links to it,
in a temporary directory removed at the end.  Figures from MedQuAD carry its
attribution: MedQuAD, Ben Abacha & Demner-Fushman 2019, CC BY 4.0.
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from kb import generations
from kb.indexer import build


def _articles(corpus, root):
    articles = root / "articles"
    articles.mkdir()
    for path in sorted(Path(corpus).glob("*.md")):
        (articles / path.name).symlink_to(path.resolve())
    return articles


def _edit_one(articles, n):
    """Replace the first article's link by an edited copy (a different word each time)."""
    first = sorted(articles.glob("*.md"))[0]
    text = first.resolve().read_text("utf-8") if first.is_symlink() else first.read_text("utf-8")
    first.unlink()
    first.write_text(text + f"\n\nEdited for the durability benchmark, round {n}.\n", encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    real_sync = generations.sync_generation
    spent = []

    def timed_sync(gen_path):
        started = time.perf_counter()
        files = real_sync(gen_path)
        spent.append((time.perf_counter() - started, files))
        return files

    rows = {(mode, sync): [] for mode in ("full", "incremental") for sync in (True, False)}
    sync_time = {"full": [], "incremental": []}
    root = Path(tempfile.mkdtemp(prefix="kb-durability-"))
    try:
        articles = _articles(args.corpus, root)
        for n in range(args.rounds):
            for sync in (True, False):
                generations.sync_generation = timed_sync if sync else (lambda gen_path: 0)
                index = root / f"index-{n}-{int(sync)}"
                for mode in ("full", "incremental"):
                    if mode == "incremental":
                        _edit_one(articles, f"{n}-{sync}")
                    spent.clear()
                    started = time.perf_counter()
                    report = build(articles, index, full=mode == "full")
                    rows[mode, sync].append(time.perf_counter() - started)
                    assert report.mode == mode, report.mode
                    if sync:
                        sync_time[mode].append(spent[0])
                shutil.rmtree(index)
    finally:
        generations.sync_generation = real_sync
        shutil.rmtree(root, ignore_errors=True)

    print(f"corpus: {args.corpus} ({len(list(Path(args.corpus).glob('*.md')))} articles); rounds: {args.rounds}")
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"{'build':<12} {'with fsync (s)':>16} {'without (s)':>12} {'in sync (s)':>12} {'files':>6}")
    for mode in ("full", "incremental"):
        with_sync, without = rows[mode, True], rows[mode, False]
        in_sync = [s for s, _ in sync_time[mode]]
        files = sync_time[mode][0][1] if sync_time[mode] else 0
        print(
            f"{mode:<12} {statistics.median(with_sync):>16.2f} {statistics.median(without):>12.2f} "
            f"{statistics.median(in_sync):>12.3f} {files:>6}"
        )
    print("medians; MedQuAD, Ben Abacha & Demner-Fushman 2019, CC BY 4.0")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
