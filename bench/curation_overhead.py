"""What curation rules cost an uncached search: median time with 0, 2 and 302 rules.

    python -m bench.curation_overhead [--runs 300]

Builds the tiny curation fixture of ``tests/test_curation.py`` (three articles)
three times: with no ``curation.yaml``, with its two rules, and with those plus
300 phrase rules no query matches; then times ``Engine.search`` with the result
cache off for one query a rule matches and one it does not.  Compare figures of
one run only (the machine is shared).
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from kb.search.engine import Engine
from tests.test_curation import RULES, TODAY, site


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=300, help="timed searches per query (default 300)")
    args = ap.parse_args(argv)
    many = RULES + "".join(
        f"- phrase: condition number {i} words\n  pin: [spotting]\n  notice: n{i}\n" for i in range(300)
    )
    for label, rules in (("no rules", ""), ("2 rules", RULES), ("302 rules", many)):
        with tempfile.TemporaryDirectory() as tmp:
            site(Path(tmp), rules)
            engine = Engine(Path(tmp) / "index", reload_seconds=0, cache_mb=0, today=lambda: TODAY)
            try:
                for q in ("heavy bleeding", "spotting pregnancy"):
                    engine.search(q)
                    runs = []
                    for _ in range(args.runs):
                        started = time.perf_counter()
                        engine.search(q)
                        runs.append((time.perf_counter() - started) * 1e6)
                    print(f"{label:10} {q!r:22} median {statistics.median(runs):6.0f} us")
            finally:
                engine.close()


if __name__ == "__main__":
    main()
