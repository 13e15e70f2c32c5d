"""The ``kb`` command: index, search and serve a knowledge base of Markdown articles.

Every subcommand reads the same :class:`~kb.config.Config` (``KB_*`` variables),
which its flags override.  Errors print ``kb: error: ...`` and exit 1; a build
with broken articles prints ``path:line: what is wrong`` for each and exits 1
after indexing every other article.
"""

import argparse
import re
import sys
from pathlib import Path

from . import __version__
from .config import Config
from .errors import KBError
from .logs import configure_logging

EPILOG = """\
Examples:
  kb index                          # build or update index/ from articles/
  kb search "recurrent miscarriage" # check what visitors will find
  kb serve --port 8080              # serve the JSON API (builds the index if missing)
  kb report --days 7                # what visitors searched for (search analytics)

Settings come from KB_* environment variables (KB_ARTICLES_DIR, KB_INDEX_DIR,
KB_HOST, KB_PORT, KB_THREADS, KB_CORS_ORIGINS, ...); flags override them.
"""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kb",
        description="A searchable knowledge base of Markdown articles with FAQs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name, help, example):
        p = sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=f"Example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--index", dest="index_dir", type=Path, help="index directory (default: index, or KB_INDEX_DIR)")
        return p

    p = add(
        "index",
        "Build a new index generation from the articles and make it current.",
        "kb index --articles articles --index index",
    )
    p.add_argument(
        "--articles", dest="articles_dir", type=Path, help="articles directory (default: articles, or KB_ARTICLES_DIR)"
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="write every article afresh, not only the changed ones (same result, slower)",
    )
    p.add_argument(
        "--from-scratch",
        action="store_true",
        help="a full build that forgets the history: drops the kept last good version of every article "
        "that is broken now, and lets slugs go to the first file in path order",
    )
    p.add_argument("--quiet", action="store_true", help="no progress display")

    p = add("search", "Search the index and print ranked results with snippets.", 'kb search "hsg test" --limit 5')
    p.add_argument("query", help="what a visitor would type")
    p.add_argument("--limit", type=int, default=10, help="results to show, 1-50 (default 10)")
    p.add_argument("--kind", choices=("article", "section", "faq"), help="search one kind of document only")
    p.add_argument("--json", action="store_true", help="print the API's JSON instead of text")
    p.add_argument(
        "--explain", action="store_true", help="show why each result ranks where it does (rules, BM25F per term)"
    )

    p = add(
        "eval",
        "Measure relevance on judged query sets and print the tables per category; save and compare runs.",
        "kb eval --corpus ../shared/corpus/medquad --devset ../shared/eval/devset.tsv "
        "--liveqa ../shared/corpus/liveqa --save-run ../runs/mine\n"
        "  kb eval --compare ../runs/baseline ../runs/mine",
    )
    p.add_argument(
        "--corpus",
        type=Path,
        help="a directory of articles to search besides articles/ (e.g. ../shared/corpus/medquad); "
        "its _index/qa_pairs.tsv maps MedQuAD FAQ ids to heading order. Required unless --compare",
    )
    p.add_argument(
        "--sitesearch",
        type=Path,
        action="append",
        help="a judged site-search set directory (default: eval/sitesearch); repeatable",
    )
    p.add_argument("--devset", type=Path, help="the development set devset.tsv (e.g. ../shared/eval/devset.tsv)")
    p.add_argument("--liveqa", type=Path, help="the TREC LiveQA 2017 directory (queries*.tsv, qrels*.txt)")
    p.add_argument(
        "--set",
        dest="overrides",
        metavar="NAME=VALUE",
        type=_override,
        action="append",
        default=[],
        help="override a ranking-profile setting for this run, e.g. --set k1=2.5, --set field_weights.title=6, "
        "--set weight_typo=1,0.4,0.2; repeatable",
    )
    p.add_argument(
        "--save-run",
        type=Path,
        metavar="DIR",
        help="save each set's runs in DIR: TREC run files and per-query metrics as JSON",
    )
    p.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("RUN_A", "RUN_B"),
        help="compare two --save-run directories (B - A) per category with paired tests; builds nothing",
    )
    p.add_argument(
        "--metric",
        default="ndcg@10",
        choices=METRIC_NAMES,
        help="the metric --compare tests (default ndcg@10)",
    )
    p.add_argument(
        "--articles",
        dest="articles_dir",
        type=Path,
        help="the project's articles, searched with the corpus (default: articles)",
    )
    p.add_argument(
        "--workdir",
        type=Path,
        default=Path(".kb-eval"),
        help="where the evaluation index is built and kept (default: .kb-eval)",
    )

    p = add("report", "Print search analytics: top, zero-result, weak and unclicked queries.", "kb report --days 7")
    p.add_argument("--days", type=int, default=30, help="the window, ending today (UTC), in days (default 30)")
    p.add_argument("--limit", type=int, default=20, help="queries per list (default 20)")
    p.add_argument("--json", action="store_true", help="print the JSON of GET /analytics instead of text")
    p.add_argument("--data", dest="data_dir", type=Path, help="analytics directory (default: data/, or KB_DATA_DIR)")

    p = add(
        "serve",
        "Serve the HTTP API with waitress; builds the index first if there is none.",
        "kb serve --host 0.0.0.0 --port 8080 --threads 8",
    )
    p.add_argument("--articles", dest="articles_dir", type=Path, help="articles directory, for the first build")
    p.add_argument("--host", help="interface to listen on (default 127.0.0.1, or KB_HOST)")
    p.add_argument("--port", type=int, help="port (default 8080, or KB_PORT)")
    p.add_argument("--threads", type=int, help="threads per worker process (default 4, or KB_THREADS)")
    p.add_argument(
        "--workers",
        type=int,
        help="worker processes sharing the port, restarted if they die (default: one per CPU, or KB_WORKERS)",
    )
    return parser


def main(argv=None):
    """Run the ``kb`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    options = {k: v for k, v in vars(args).items() if k in Config.__dataclass_fields__}
    config = None
    try:
        config = Config.from_env(**options)
        configure_logging(config, default_level="info" if args.command == "serve" else "warning")
        return COMMANDS[args.command](config, args)
    except KBError as e:
        print(f"kb: error: {e}", file=sys.stderr)
        hint = getattr(e, "hint", None)
        if hint:
            print(f"hint: {hint}", file=sys.stderr)
        return 1
    except ValueError as e:  # a malformed KB_* variable
        print(f"kb: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # a full disk, a read-only or missing directory, too many open files
        message, hint = describe_os_error(e, config)
        print(f"kb: error: {message}", file=sys.stderr)
        print(f"hint: {hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def describe_os_error(error, config=None):
    """``(message, hint)`` for an operating-system error: what failed and what to do.

    A build that fails this way has published nothing: the generation being
    served is the one served before, and the half-written one is removed.
    """
    import errno

    where = getattr(config, "index_dir", None)
    what = error.strerror or str(error)
    if error.filename:
        what = f"{what}: {error.filename}"
    unchanged = "the index being served was not changed"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        room = f"the disk holding {where}" if where else "the disk"
        if where and not error.filename:
            what = f"cannot write to {where}: {what}"
        return what, f"free some space on {room} (`df -h`), then run the command again; {unchanged}"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        place = f"{where} and the articles directory" if where else "the directories kb uses"
        return what, f"check that this user may write to {place}, then run the command again; {unchanged}"
    if error.errno in (errno.EMFILE, errno.ENFILE):
        return what, f"raise the open-file limit (`ulimit -n`), then run the command again; {unchanged}"
    if error.errno == errno.EADDRINUSE:
        return what, "another process listens on that port: stop it or choose another with --port or KB_PORT"
    return what, f"check the disk and the directories kb uses, then run the command again; {unchanged}"


class Progress:
    """A one-line progress display, drawn only when stderr is a terminal."""

    def __init__(self, stream=sys.stderr, enabled=None):
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled

    def __call__(self, done, total, path):
        if self.enabled and (done == total or done % 25 == 1):
            width = 30
            filled = width * done // max(total, 1)
            name = path[-40:]
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {name:<40}")
            if done == total:
                self.stream.write("\n")
            self.stream.flush()


class EmbedProgress:
    """A one-line display of documents embedded, with the time left, drawn only when stderr is a terminal."""

    def __init__(self, stream=sys.stderr, enabled=None):
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled

    def __call__(self, done, total, eta_seconds):
        if not self.enabled:
            return
        minutes, seconds = divmod(int(eta_seconds + 0.5), 60)
        self.stream.write(f"\rembedding: {done}/{total} texts, about {minutes}:{seconds:02d} left   ")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def cmd_index(config, args):
    from .indexer import build
    from .semantic import embedder_for

    if not config.articles_dir.is_dir():
        print(f"kb: error: articles directory {config.articles_dir} does not exist", file=sys.stderr)
        return 1
    embedder = embedder_for(config)
    report = build(
        config.articles_dir,
        config.index_dir,
        full=args.full,
        from_scratch=args.from_scratch,
        progress=None if args.quiet else Progress(),
        embedder=embedder,
        embed_progress=None if args.quiet else EmbedProgress(),
    )
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(report.summary())
    return 0 if report.ok else 1


_MARK = re.compile(r"</?mark>")


def cmd_search(config, args):
    import html
    import json

    from .presentation import did_you_mean_body, explanation_lines, search_body
    from .search import Engine
    from .semantic import loader_for

    engine = Engine(config.index_dir, reload_seconds=0, semantic=loader_for(config))  # one search: no reload thread
    try:
        results = engine.search(args.query, limit=args.limit, kind=args.kind, explain=args.explain)
    finally:
        engine.close()
    if args.json:
        print(json.dumps(search_body(results), indent=2))
        return 0
    bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("[", "]")

    def text(marked_html):
        return html.unescape(_MARK.sub(lambda m: plain if m.group().startswith("</") else bold, marked_html))

    # What the search page shows, in its order: count, the curation notice, did
    # you mean, words no article has, the answer card, the low-confidence note, the results.
    print(f"{results.total} results for {results.query!r} ({results.took_ms} ms)")
    if results.notice:
        link = f" ({results.notice.link})" if results.notice.link else ""
        print(f"\nImportant: {results.notice.text}{link}  [curation rule {results.notice.rule!r}]")
    if results.did_you_mean:
        print(f"Did you mean: {text(did_you_mean_body(results.did_you_mean)['html'])}?")
    if results.unmatched:
        print(f"No article mentions: {', '.join(results.unmatched)}.")
    answer = results.answer
    if answer:
        print(f"\nAnswer from {answer.article_title}: {text(answer.question_html)}")
        print(f"   {answer.url}")
        print(f"   {text(answer.answer_html)}")
    hits = [h for h in results.hits if not (answer and h.id == answer.id)]
    if hits and results.confidence == "low":
        print("\nThese are the closest matches; none is a strong one (confidence: low).")
    for n, hit in enumerate(hits, 1):
        print(f"\n{n}. [{hit.kind}] {hit.title}  (score {hit.score})")
        print(f"   {hit.url}")
        print(f"   {text(hit.snippet)}")
        if hit.explain:
            print("\n".join("   " + line for line in explanation_lines(hit.explain)))
    return 0


def cmd_serve(config, args):
    import os

    from . import serving
    from .analytics import Settings
    from .auth import ApiKeys
    from .generations import current_name
    from .indexer import ensure_index
    from .semantic import embedder_for

    Settings.from_config(config)  # a bad KB_ANALYTICS* or KB_API_KEYS fails here, not in the workers
    ApiKeys.from_config(config)
    # A first build embeds too when hybrid search is on (the model is loaded only for it).
    embedder = embedder_for(config) if current_name(config.index_dir) is None else None
    report = ensure_index(
        config.articles_dir, config.index_dir, progress=Progress(), embedder=embedder, embed_progress=EmbedProgress()
    )
    del embedder  # the workers load their own, once, on first use
    if report is not None:
        for problem in report.problems:
            print(problem, file=sys.stderr)
        print(report.summary(), file=sys.stderr)
    sock = _listen(config.host, config.port)
    host, port = sock.getsockname()[:2]
    workers = config.workers or os.cpu_count() or 1
    print(
        f"kb: serving http://{host}:{port}/ from {config.index_dir} "
        f"({workers} worker{'s' if workers > 1 else ''} x {config.threads} threads)",
        file=sys.stderr,
    )
    return serving.serve(sock, config, workers)


def _listen(host, port):
    """The listening socket, bound before any worker starts so they can share it."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _override(item):
    """``--set name=value``, parsed (argparse reports a ValueError as a usage error)."""
    from .evaluation.profile import parse_override

    try:
        return parse_override(item)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


METRIC_NAMES = (
    "ndcg@10",
    "ndcg@10 judged",
    "ndcg@10 exp",
    "rr@10",
    "success@1",
    "success@3",
    "recall@10",
    "judged@10",
)  # kb.evaluation.metrics.NAMES, spelled out so that --help needs no ir-measures import


def _eval_index(config, args):
    """Build (or update) the evaluation index of the corpus plus the articles in ``--workdir``."""
    from .indexer import build
    from .semantic import embedder_for

    articles = args.workdir / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p.resolve() for p in sorted(args.corpus.glob("*.md"))}
    if config.articles_dir.is_dir():
        wanted.update({p.name: p.resolve() for p in sorted(config.articles_dir.iterdir()) if p.is_file()})
    for link in articles.iterdir():
        if link.name not in wanted or link.resolve() != wanted[link.name]:
            link.unlink()
    for name, target in wanted.items():
        if not (articles / name).exists():
            (articles / name).symlink_to(target)
    report = build(
        articles,
        args.workdir / "index",
        progress=Progress(),
        embedder=embedder_for(config),
        embed_progress=EmbedProgress(),
    )
    print(report.summary(), file=sys.stderr)
    return args.workdir / "index"


def cmd_eval(config, args):
    from . import evaluation
    from .evaluation import compare, profile, runs, sets
    from .search import Engine
    from .semantic import loader_for

    try:
        if args.compare:
            runs_a, runs_b = runs.load_dir(args.compare[0]), runs.load_dir(args.compare[1])
            print(compare.compare_dirs(runs_a, runs_b, args.metric))
            return 0
        if args.corpus is None:
            print("kb: error: --corpus is required (unless --compare)", file=sys.stderr)
            return 1
        overrides = profile.merge_overrides(args.overrides)
        ranking_profile = profile.make_profile(overrides, Engine)  # refuses --set on an engine without profiles
        qa_pairs = args.corpus / "_index" / "qa_pairs.tsv"
        if (args.devset or args.liveqa) and not qa_pairs.is_file():
            print(f"kb: error: {qa_pairs} not found (it maps MedQuAD FAQ ids to heading order)", file=sys.stderr)
            return 1
        qsets = [sets.sitesearch_set(d) for d in args.sitesearch or [Path("eval/sitesearch")]]
        if args.devset:
            qsets.append(sets.devset(args.devset, qa_pairs))
        if args.liveqa:
            qsets.extend(sets.liveqa_sets(args.liveqa, qa_pairs))
    except (OSError, ValueError, KeyError) as e:  # a missing or malformed set or run file
        print(f"kb: error: {e}", file=sys.stderr)
        return 1

    index_dir = _eval_index(config, args)
    extra = {} if ranking_profile is None else {"profile": ranking_profile}
    engine = Engine(index_dir, semantic=loader_for(config), **extra)
    meta = {"overrides": overrides, "sets": [q.source for q in qsets]}
    print(evaluation.evaluate_sets(engine.search, qsets, args.save_run, meta))
    if args.save_run:
        print(f"\nruns saved in {args.save_run}", file=sys.stderr)
    return 0


def cmd_report(config, args):
    from .analytics import run_report

    return run_report(config, days=args.days, limit=args.limit, as_json=args.json)


COMMANDS = {"index": cmd_index, "search": cmd_search, "eval": cmd_eval, "report": cmd_report, "serve": cmd_serve}

if __name__ == "__main__":
    sys.exit(main())
