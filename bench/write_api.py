"""How soon an article sent with ``PUT /articles/{slug}`` is searchable, over HTTP, on every worker.

    nice -n 10 python -m bench.write_api --corpus ../shared/corpus/medquad --workers 2

Builds an index of the corpus (``--articles N``: the first N files) in a
temporary directory, starts ``kb serve --workers N`` with a write key, then
``--rounds`` times PUTs a new article holding a made-up word and prints the
seconds until the PUT answered (its own worker serves it then) and until ten
searches in a row, each on a new connection (so any worker may answer), found
it.  Figures on MedQuAD (Ben Abacha & Demner-Fushman 2019, CC BY 4.0).
"""

import argparse
import json
import os
import random
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from kb.indexer import build

from .queries import article_files

KEY = "bench-write-key"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--articles", type=int, default=None, help="first N corpus files (default: all)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="kb-bench-write-") as tmp:
        tmp = Path(tmp)
        articles = tmp / "articles"
        articles.mkdir()
        for f in article_files(args.corpus, args.articles):
            (articles / f.name).symlink_to(f.resolve())
        print(build(articles, tmp / "index").summary(), file=sys.stderr)
        port = free_port()
        env = {
            **os.environ,
            "KB_ARTICLES_DIR": str(articles),
            "KB_INDEX_DIR": str(tmp / "index"),
            "KB_DATA_DIR": str(tmp / "data"),
            "KB_API_KEYS": f"write:{KEY}",
        }
        cmd = [sys.executable, "-m", "kb", "serve", "--port", str(port), "--workers", str(args.workers)]
        server = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if request("GET", f"{base}/health")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            rng = random.Random(7)
            for n in range(args.rounds):
                word = "zq" + "".join(rng.choice(string.ascii_lowercase) for _ in range(8))
                slug = f"bench-new-{n}"
                body = f"---\ntitle: Bench article {n}\n---\n\nThe word {word} is here.\n".encode()
                started = time.perf_counter()
                status, answer = request("PUT", f"{base}/articles/{slug}", body, {"Authorization": f"Bearer {KEY}"})
                answered = time.perf_counter() - started
                assert status == 201, answer
                streak = 0
                while streak < 10:
                    _, found = request("GET", f"{base}/search?q={word}&live=1")
                    streak = streak + 1 if [h["id"] for h in found["results"]][:1] == [slug] else 0
                everywhere = time.perf_counter() - started
                print(
                    f"round {n + 1}: PUT answered in {answered:.2f} s (build {answer['build']['seconds']:.2f} s, "
                    f"served={answer['served']}); found by 10 searches in a row after {everywhere:.2f} s"
                )
        finally:
            server.terminate()
            server.wait(30)
    print(f"{args.workers} workers, {args.articles or 'all'} articles; target: searchable within 2 s")


if __name__ == "__main__":
    main()
