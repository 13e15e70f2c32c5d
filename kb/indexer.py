"""Build index generations from the articles directory, fully or incrementally.

:func:`build` is the one entry point: ``kb index``, ``scripts/reindex.py`` and
``kb serve`` (on a fresh clone) all call it.  It

1. takes the index directory's write lock (a second build is refused),
2. reads every article, hashing each file to see what changed since the current
   generation (only changed, added and deleted articles are re-parsed and
   re-written; ``full=True`` rebuilds everything),
3. writes a new generation beside the current one (an incremental build starts
   from hard links to the current generation's immutable segment files),
4. checks it (document count, one smoke search) and publishes it atomically,
5. removes older generations that no process is reading.

A broken article is reported as ``path:line: what is wrong`` and skipped; if an
earlier version of it is indexed, that version keeps being served.
"""

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import generations
from .articles import KINDS, duplicate_slug, parse_article
from .errors import ArticleProblem, IndexBusy
from .store import writer as store
from .store.schema import SCHEMA_VERSION
from .synonyms import FILE_NAME as SYNONYMS_FILE
from .synonyms import parse_synonyms
from .text import words

#: Files kb writes into a generation beside Whoosh's own.
VOCABULARY = "vocabulary.json"
SYNONYMS = "synonyms.json"
OWN_FILES = {generations.RECORD, generations.READERS_LOCK, VOCABULARY, SYNONYMS}


@dataclass
class BuildReport:
    """What one build did."""

    generation: str = ""
    mode: str = "full"
    articles: int = 0
    sections: int = 0
    faqs: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self):
        return not self.problems

    def summary(self):
        """The one-line summary ``kb index`` prints at the end."""
        changes = f"{self.added} added, {self.changed} changed, {self.removed} removed, {self.unchanged} unchanged"
        return (
            f"{self.mode} build: {self.articles} articles, {self.sections} sections, "
            f"{self.faqs} FAQ entries ({changes}); {len(self.problems)} problems; "
            f"{self.seconds:.1f} s; generation {self.generation}"
        )


def build(articles_dir, index_dir, full=False, progress=None, limitmb=256):
    """Build a new generation from ``articles_dir`` and make it current.

    :param full: rebuild every article, ignoring the current generation.
    :param progress: called as ``progress(done, total, path)`` while parsing.
    :returns: a :class:`BuildReport` (``report.problems`` lists broken articles).
    :raises IndexBusy: another build holds the lock.
    :raises IndexCheckFailed: the new generation failed its checks; the current
        generation stays current.
    """
    started = time.perf_counter()
    articles_dir, index_dir = Path(articles_dir), Path(index_dir)
    with generations.write_lock(index_dir):
        report = _build_locked(articles_dir, index_dir, full, progress, limitmb)
        generations.remove_unused(index_dir)
    report.seconds = time.perf_counter() - started
    return report


def _scan(articles_dir):
    """``{relative path: (sha256, bytes)}`` of every article file."""
    files = {}
    if articles_dir.is_dir():
        for path in sorted(articles_dir.rglob("*.md")):
            data = path.read_bytes()
            files[path.relative_to(articles_dir).as_posix()] = (hashlib.sha256(data).hexdigest(), data)
    return files


def _build_locked(articles_dir, index_dir, full, progress, limitmb):
    report = BuildReport()
    files = _scan(articles_dir)
    current = generations.current_path(index_dir)
    record = generations.read_record(current) if current else {}
    incremental = (
        not full and current is not None and record.get("schema_version") == SCHEMA_VERSION and store.exists(current)
    )
    old = record.get("files", {}) if incremental else {}
    report.mode = "incremental" if incremental else "full"

    # Parse what changed; keep what did not.
    parsed, entries = {}, {}
    todo = [p for p, (sha, _) in files.items() if old.get(p, {}).get("sha256") != sha or old[p].get("problem")]
    for n, rel in enumerate(todo, 1):
        if progress:
            progress(n, len(todo), rel)
        try:
            parsed[rel] = parse_article(articles_dir / rel, files[rel][1])
        except ArticleProblem as problem:
            report.problems.append(problem)
            if rel in old:
                entries[rel] = dict(old[rel], problem=str(problem))  # keep serving the last good version
    for rel in files:
        if rel not in parsed and rel not in entries and rel in old and not old[rel].get("problem"):
            entries[rel] = dict(old[rel])
            report.unchanged += 1

    # One slug, one article: the first file (in path order) keeps it.
    owners = {}
    for rel in sorted(set(parsed) | set(entries)):
        slug = parsed[rel].slug if rel in parsed else entries[rel]["slug"]
        if slug not in owners:
            owners[slug] = rel
            continue
        if rel in parsed:
            report.problems.append(duplicate_slug(parsed.pop(rel), articles_dir / owners[slug]))
        else:
            entries.pop(rel)
            report.unchanged -= 1
            report.problems.append(
                ArticleProblem(
                    articles_dir / rel, 1, f"duplicate slug {slug!r}: already used by {articles_dir / owners[slug]}"
                )
            )
    synonym_groups = _read_synonyms(articles_dir, report.problems)
    report.problems.sort(key=lambda p: (p.path, p.line))

    gen = generations.new_generation(index_dir)
    lease = generations.ReaderLease(gen)  # nobody may remove it while it is built
    try:
        ix = (
            store.GenerationIndex.based_on(gen, current, OWN_FILES)
            if incremental
            else store.GenerationIndex.create(gen)
        )
        # Old versions that leave the index: files changed, deleted, or now a
        # duplicate slug (a broken edit keeps its last good version).
        replaced = {
            rel
            for rel in old
            if rel in parsed or rel not in entries or entries[rel].get("sha256") != old[rel].get("sha256")
        }
        vocabulary = _vocabulary(ix, current, replaced) if incremental else Counter()

        def documents():
            for rel, article in parsed.items():
                count = dict.fromkeys(KINDS, 0)
                for doc in article.documents():
                    yield _fields(doc, article, rel)
                    count[doc.kind] += 1
                    if doc.kind == "article":
                        vocabulary.update(_vocabulary_words(doc.title, doc.summary, doc.keywords, doc.body))
                entries[rel] = {
                    "sha256": files[rel][0],
                    "slug": article.slug,
                    "counts": count,
                    "names": [article.title, *article.synonyms],
                }

        ix.write(replaced, documents(), limitmb=limitmb, optimize=not incremental)
        totals = {k: sum(e["counts"][k] for e in entries.values()) for k in KINDS}
        _check(ix, totals, parsed, entries)
        for rel in parsed:
            report.added += rel not in old
            report.changed += rel in old
        report.removed = sum(1 for rel in old if rel not in files)
        report.articles, report.sections, report.faqs = (totals[k] for k in KINDS)
        report.generation = gen.name
        generations.write_record(
            gen,
            {
                "schema_version": SCHEMA_VERSION,
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "articles_dir": str(articles_dir),
                "mode": report.mode,
                "counts": totals,
                "problems": [str(p) for p in report.problems],
                "files": entries,
            },
        )
        ix.close()
        generations.write_json(
            gen / VOCABULARY, {w: n for w, n in vocabulary.items() if len(w) > 1 and not w.isdigit()}
        )
        names = [e["names"] for e in entries.values() if len(e.get("names", ())) > 1]
        generations.write_json(gen / SYNONYMS, {"groups": synonym_groups, "article_names": names})
        generations.publish(index_dir, gen)
    except BaseException:
        lease.release()
        generations.remove_unused(index_dir)
        raise
    lease.release()
    return report


def _fields(doc, article, rel):
    fields = {
        "id": doc.id,
        "kind": doc.kind,
        "slug": doc.slug,
        "path": rel,
        "title": doc.title,
        "article_title": doc.article_title,
        "body": doc.body,
        "url": doc.url,
        "anchor": doc.anchor,
        "position": doc.position,
    }
    if doc.kind == "article":
        # Indexed: the article's own text; its sections and FAQ entries are
        # indexed once, in their own documents, and kb.search adds them up.
        # Stored: the whole text, for snippets.
        fields["body"] = doc.lead
        fields["_stored_body"] = doc.body
        fields.update(
            summary=doc.summary,
            keywords=doc.keywords,
            markdown=article.body,
            meta={
                "title": article.title,
                "slug": article.slug,
                "url": article.url,
                "summary": article.summary,
                "tags": list(article.tags),
                "synonyms": list(article.synonyms),
                "language": article.language,
                "path": rel,
            },
        )
    return fields


def _check(ix, totals, parsed, entries):
    """Refuse to publish a generation whose counts or search are wrong."""
    sample = next(iter(parsed.values()), None)
    if sample is not None:
        ix.check(sum(totals.values()), sample.slug, sample.title)
    elif entries:
        ix.check(sum(totals.values()), next(iter(entries.values()))["slug"])
    else:
        ix.check(sum(totals.values()))


def _vocabulary_words(title, summary, keywords, body):
    """The distinct words an article adds to the vocabulary (its whole text)."""
    return set(words(" ".join((title, summary, keywords, body))))


def _vocabulary(ix, current, replaced):
    """The current generation's word counts, less the articles being replaced.

    Counts are documents per word: each replaced article's words, read back from
    its stored fields, are taken away before its new version adds them again,
    so editing an article never inflates them.
    """
    vocabulary = Counter(generations.read_json(current / VOCABULARY, {}))
    for doc in ix.stored_articles(replaced):
        vocabulary.subtract(
            _vocabulary_words(doc["title"], doc.get("summary", ""), doc.get("keywords", ""), doc["body"])
        )
    return +vocabulary  # drops words no article has any more


def _read_synonyms(articles_dir, problems):
    """The synonyms file's groups (its bad lines are added to ``problems``)."""
    path = articles_dir / SYNONYMS_FILE
    if not path.exists():
        return []
    groups, bad = parse_synonyms(path.read_text("utf-8", "replace"), path)
    problems.extend(bad)
    return groups


def ensure_index(articles_dir, index_dir, progress=None):
    """Build the index if no generation is current yet (a fresh clone).

    :returns: the :class:`BuildReport`, or None when an index already existed.
    """
    if generations.current_name(index_dir) is not None:
        return None
    try:
        return build(articles_dir, index_dir, full=True, progress=progress)
    except IndexBusy:
        return None  # someone else is building it; the engine serves it when published
