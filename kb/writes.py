"""Publishing articles without a shell: write or delete one file, then build.

The core of ``PUT /articles/{slug}``, ``DELETE /articles/{slug}`` and
``POST /reindex`` (the web layer, :mod:`kb.web_admin`, only adds keys and HTTP):

- An article is checked (:func:`kb.articles.parse_article`) *before* it is
  written: a broken one raises :class:`ArticleRejected` with its ``path:line``
  problems, and neither the file nor the index changes, so the previous
  version stays served.
- A good one is written atomically (a temporary file in the same directory,
  fsync, rename): a build running at the same time reads either the old or the
  new file, never half of one.  It goes to ``articles/{slug}.md``, or to the
  file that already holds that slug (an article kept in a sub-directory).
- Then an incremental build runs (:func:`kb.indexer.build`).  It takes the
  index's write lock; when another build holds it (a second PUT, a ``kb
  index``), this one waits for it, up to :data:`BUILD_WAIT_SECONDS`, then
  raises :class:`~kb.errors.IndexBusy` (HTTP 503 with ``Retry-After``).
  Waiting is right for a CMS publishing several articles at once: each PUT
  answers once its article is searchable, with no retry logic on its side.
"""

import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import generations
from .articles import SLUG_RE, parse_article
from .errors import ArticleProblem, BadQuery, IndexBusy, KBError, NotFound
from .indexer import build

#: Largest article body accepted, in bytes.
MAX_ARTICLE_BYTES = 1_000_000
#: How long a write waits for another build to finish before giving up.
BUILD_WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.05
_SLUG_LINE = re.compile(r"^slug\s*:", re.MULTILINE)


class ArticleRejected(KBError):
    """The article cannot be indexed; ``problems`` are :class:`ArticleProblem`\\ s."""

    def __init__(self, problems):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = list(problems)


@dataclass
class WriteResult:
    """What a write did: the action, the file, and the build that followed."""

    action: str  # created, updated, deleted, reindexed
    report: object  # kb.indexer.BuildReport
    slug: str = ""
    path: str = ""
    problems: list = field(default_factory=list)

    def as_dict(self):
        r = self.report
        return {
            "action": self.action,
            **({"slug": self.slug, "path": self.path} if self.slug else {}),
            "build": {
                "generation": r.generation,
                "mode": r.mode,
                "articles": r.articles,
                "sections": r.sections,
                "faqs": r.faqs,
                "added": r.added,
                "changed": r.changed,
                "removed": r.removed,
                "unchanged": r.unchanged,
                "seconds": round(r.seconds, 3),
                "summary": r.summary(),
            },
            "problems": [problem_dict(p) for p in r.problems],
        }


def problem_dict(problem):
    """An :class:`ArticleProblem` as JSON: ``path``, ``line``, ``message`` and the ``path:line: message`` text."""
    return {"path": problem.path, "line": problem.line, "message": problem.message, "text": str(problem)}


def check_slug(slug):
    """:raises BadQuery: ``slug`` is not a valid article slug."""
    if not SLUG_RE.match(slug or ""):
        raise BadQuery("slug", "slug must be lower-case letters, digits, '-' or '_', starting with a letter or digit")


def article_path(articles_dir, index_dir, slug):
    """The file that holds ``slug``: the one the current generation indexed it from, else ``{slug}.md``."""
    current = generations.current_path(index_dir)
    files = generations.read_record(current).get("files", {}) if current else {}
    for rel, entry in sorted(files.items()):
        if entry.get("slug") == slug:
            return Path(articles_dir) / rel
    return Path(articles_dir) / f"{slug}.md"


def build_waiting(articles_dir, index_dir, full=False, wait=None):
    """:func:`kb.indexer.build`, waiting up to ``wait`` seconds for another build to finish.

    :raises IndexBusy: still busy after ``wait`` seconds.
    """
    deadline = time.monotonic() + (BUILD_WAIT_SECONDS if wait is None else wait)
    while True:
        try:
            return build(articles_dir, index_dir, full=full)
        except IndexBusy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(_POLL_SECONDS)


def put_article(articles_dir, index_dir, slug, data, wait=None):
    """Check, write and index one article.

    :param data: the file's bytes (the article file format: front matter, Markdown).
    :raises BadQuery: a bad slug, or a body over :data:`MAX_ARTICLE_BYTES`.
    :raises ArticleRejected: the article cannot be indexed; nothing was changed (unless the
        build itself finds a problem with the written file, e.g. a slug an unindexed file
        already claims: then the file stays, and its last good version stays served).
    :raises IndexBusy: another build held the lock for ``wait`` seconds (the file is written).
    """
    check_slug(slug)
    if len(data) > MAX_ARTICLE_BYTES:
        raise BadQuery("body", f"the article is {len(data)} bytes; the most is {MAX_ARTICLE_BYTES}")
    path = article_path(articles_dir, index_dir, slug)
    try:
        article = parse_article(path, data)
    except ArticleProblem as problem:
        raise ArticleRejected([problem]) from None
    if article.slug != slug:
        text = data.decode("utf-8-sig", "replace")
        match = _SLUG_LINE.search(text)
        line = text[: match.start()].count("\n") + 1 if match else 1
        raise ArticleRejected(
            [ArticleProblem(path, line, f"the article's slug is {article.slug!r}, not {slug!r} as in the URL")]
        )
    action = "updated" if path.exists() else "created"
    _atomic_write(path, data)
    report = build_waiting(articles_dir, index_dir, wait=wait)
    mine = [p for p in report.problems if Path(p.path) == path]
    if mine:  # e.g. a file that is not indexed yet already claims the slug
        raise ArticleRejected(mine)
    return WriteResult(action, report, slug=slug, path=str(path))


def delete_article(articles_dir, index_dir, slug, wait=None):
    """Delete one article's file and build without it.

    :raises NotFound: no file holds ``slug``.
    """
    check_slug(slug)
    path = article_path(articles_dir, index_dir, slug)
    try:
        path.unlink()
    except FileNotFoundError:
        raise NotFound(f"no article {slug!r}") from None
    report = build_waiting(articles_dir, index_dir, wait=wait)
    return WriteResult("deleted", report, slug=slug, path=str(path))


def reindex(articles_dir, index_dir, full=False, wait=None):
    """Build from the articles as they are (``POST /reindex``)."""
    return WriteResult("reindexed", build_waiting(articles_dir, index_dir, full=full, wait=wait))


def _atomic_write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
