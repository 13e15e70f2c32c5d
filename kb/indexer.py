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
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.query import Term

from . import generations
from .articles import KINDS, duplicate_slug, parse_article
from .errors import ArticleProblem, IndexBusy, IndexCheckFailed
from .schema import ANALYZER, SCHEMA, SCHEMA_VERSION
from .synonyms import FILE_NAME as SYNONYMS_FILE
from .synonyms import parse_synonyms
from .text import words

log = logging.getLogger("kb.index")

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

    def log_fields(self):
        """The build summary as fields of a ``kb.index`` log line."""
        return {
            "generation": self.generation,
            "mode": self.mode,
            "articles": self.articles,
            "sections": self.sections,
            "faqs": self.faqs,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "problems": len(self.problems),
            "seconds": round(self.seconds, 2),
        }

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
        try:
            report = _build_locked(articles_dir, index_dir, full, progress, limitmb)
        finally:
            generations.remove_unused(index_dir)  # and whatever a failed build half-wrote
    # A failed build raises: the caller (kb index, kb serve) reports it once.
    report.seconds = time.perf_counter() - started
    log.info("build finished", extra=report.log_fields())
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
        not full
        and current is not None
        and record.get("schema_version") == SCHEMA_VERSION
        and whoosh_index.exists_in(current)
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
        ix = _open_new(gen, current if incremental else None)
        # Separate segment files, mapped by readers; a compound file is copied into
        # each reader's memory (~42 MB for MedQuAD).
        # Old versions that leave the index: files changed, deleted, or now a
        # duplicate slug (a broken edit keeps its last good version).
        replaced = {
            rel
            for rel in old
            if rel in parsed or rel not in entries or entries[rel].get("sha256") != old[rel].get("sha256")
        }
        vocabulary = _vocabulary(ix, current, replaced) if incremental else Counter()
        writer = ix.writer(limitmb=limitmb, compound=False)
        try:
            for rel in replaced:
                writer.delete_by_term("path", rel)
            for rel, article in parsed.items():
                count = dict.fromkeys(KINDS, 0)
                for doc in article.documents():
                    writer.add_document(**_fields(doc, article, rel))
                    count[doc.kind] += 1
                    if doc.kind == "article":
                        vocabulary.update(_vocabulary_words(doc.title, doc.summary, doc.keywords, doc.body))
                entries[rel] = {
                    "sha256": files[rel][0],
                    "slug": article.slug,
                    "counts": count,
                    "names": [article.title, *article.synonyms],
                }
            writer.commit(optimize=not incremental)
        except BaseException:
            writer.cancel()  # WHOOSH.md hazard 3: a failed commit keeps the lock otherwise
            raise
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


def _open_new(gen, base):
    """A Whoosh index in ``gen``: empty, or sharing ``base``'s segment files.

    Segment files never change once written (deletions live in the TOC), so an
    incremental build can start from hard links and leave ``base`` untouched.
    """
    if base is None:
        return whoosh_index.create_in(gen, SCHEMA)
    for src in base.iterdir():
        if src.is_file() and "LOCK" not in src.name.upper() and src.name not in OWN_FILES:
            os.link(src, gen / src.name)
    return whoosh_index.open_dir(gen)


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
    expected = sum(totals.values())
    with ix.searcher() as s:
        if s.doc_count() != expected:
            raise IndexCheckFailed(f"index holds {s.doc_count()} documents, expected {expected}")
        if not entries:
            return
        sample = next(iter(parsed.values()), None)
        slug = sample.slug if sample else next(iter(entries.values()))["slug"]
        terms = ANALYZER.terms(sample.title) if sample else []
        query = Term("title", terms[0]) if terms else Term("slug", slug)
        found = {hit["slug"] for hit in s.search(query, limit=None)}
        if slug not in found:
            raise IndexCheckFailed(f"smoke search for article {slug!r} did not find it")


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
    with ix.searcher() as searcher:
        for rel in replaced:
            for doc in searcher.documents(path=rel, kind="article"):
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
