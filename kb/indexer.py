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

The rules, the same for an incremental and a full build (they give the same
documents, ids and statistics, so every query ranks the same):

- A broken article is reported as ``path:line: what is wrong``.  If the current
  generation holds a good version of it, that version is kept (a full build
  parses the copy of the file the generation stored) and the summary says
  ``kept previous version of articles/x.md``; otherwise it is skipped.
- One slug, one article: the file that owns a slug in the current generation
  keeps it (if it changes its slug, the old one stays reserved for it during
  that build, in case the new one is taken and it keeps its last good version).
  A file claiming an owned slug is reported (``duplicate slug 'x': already used
  by <owner>``) and skipped, or keeps its own last good version.  Among files
  claiming a free slug in the same build, the first in path order wins.  When
  the owner is deleted, the claimant is indexed by the next build.
- ``from_scratch=True`` (``kb index --from-scratch``) forgets this history:
  every file is judged as it is now.
"""

import hashlib
import logging
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import generations
from .articles import KINDS, duplicate_slug, parse_article
from .curation import FILE_NAME as CURATION_FILE
from .curation import CurationProblem, parse_curation
from .errors import ArticleProblem, IndexBusy, IndexCheckFailed, KBError
from .semantic import store as vector_store
from .semantic.texts import DOCUMENT_TEXT, indexed_text
from .store import writer as store
from .store.schema import SCHEMA_VERSION
from .synonyms import FILE_NAME as SYNONYMS_FILE
from .synonyms import parse_synonyms
from .text import words

log = logging.getLogger("kb.index")

#: Files kb writes into a generation beside Whoosh's own.
VOCABULARY = generations.VOCABULARY
SYNONYMS = generations.SYNONYMS
OWN_FILES = {
    generations.RECORD,
    generations.READERS_LOCK,
    VOCABULARY,
    SYNONYMS,
    generations.CURATION,
    *vector_store.FILES,
}


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
    kept: list = field(default_factory=list)  # broken files whose last good version is served
    vectors: vector_store.EmbedReport = None  # what the embedder did, when one was given
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
            "kept": len(self.kept),
            "seconds": round(self.seconds, 2),
            **(
                {"embedded": self.vectors.embedded, "vectors_reused": self.vectors.reused}
                if self.vectors is not None
                else {}
            ),
        }

    def summary(self):
        """The one-line summary ``kb index`` prints at the end."""
        changes = f"{self.added} added, {self.changed} changed, {self.removed} removed, {self.unchanged} unchanged"
        kept = "".join(f"; kept previous version of {path}" for path in self.kept)
        return (
            f"{self.mode} build: {self.articles} articles, {self.sections} sections, "
            f"{self.faqs} FAQ entries ({changes}); {len(self.problems)} problems; "
            f"{self.seconds:.1f} s; generation {self.generation}{kept}"
            + (f"; {self.vectors.summary()}" if self.vectors is not None else "")
        )


def build(
    articles_dir,
    index_dir,
    full=False,
    progress=None,
    limitmb=256,
    from_scratch=False,
    embedder=None,
    embed_progress=None,
):
    """Build a new generation from ``articles_dir`` and make it current.

    An incremental and a full build of the same files give the same documents
    (see the module docstring for the rules both follow).

    :param full: write every article afresh instead of starting from the
        current generation's segments (the history is still followed).
    :param from_scratch: a full build that forgets the history too: no slug
        is owned, no last good version of a broken article is kept.
    :param progress: called as ``progress(done, total, path)`` while parsing.
    :param embedder: a :class:`kb.semantic.Embedder`: the generation also gets
        one vector per document (``vectors.npy``, fp16).  A text the current
        generation's vectors already hold, from the same model, is not embedded
        again; a different model re-embeds everything (the summary says so).
    :param embed_progress: called as ``progress(done, total, eta_seconds)`` while embedding.
    :returns: a :class:`BuildReport` (``report.problems`` lists broken articles).
    :raises IndexBusy: another build holds the lock.
    :raises IndexCheckFailed: the new generation failed its checks; the current
        generation stays current.
    """
    started = time.perf_counter()
    articles_dir, index_dir = Path(articles_dir), Path(index_dir)
    with generations.write_lock(index_dir):
        try:
            report = _build_locked(
                articles_dir, index_dir, full, from_scratch, progress, limitmb, embedder, embed_progress
            )
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


def _build_locked(articles_dir, index_dir, full, from_scratch, progress, limitmb, embedder=None, embed_progress=None):
    started = time.perf_counter()
    report = BuildReport()
    files = _scan(articles_dir)
    current = generations.current_path(index_dir)
    record = generations.read_record(current) if current else {}
    # The history every build follows (all but --from-scratch): who owns which
    # slug, and the last good version of each article.
    history = {} if from_scratch else record.get("files", {})
    incremental = (
        not (full or from_scratch)
        and current is not None
        and record.get("schema_version") == SCHEMA_VERSION
        and store.exists(current)
    )
    report.mode = "from-scratch" if from_scratch else "incremental" if incremental else "full"

    # 1. The version each file wants indexed: as it is now, or (broken) its last good one.
    wanted, kept_index = {}, {}  # rel -> Article; rel -> history entry kept as indexed
    todo = [
        rel
        for rel, (sha, _) in files.items()
        if not incremental or history.get(rel, {}).get("sha256") != sha or history[rel].get("problem")
    ]
    broken = []
    for n, rel in enumerate(todo, 1):
        if progress:
            progress(n, len(todo), rel)
        try:
            wanted[rel] = parse_article(articles_dir / rel, files[rel][1])
        except ArticleProblem as problem:
            report.problems.append(problem)
            broken.append(rel)
    for rel in files:
        if rel not in wanted and rel not in broken and rel in history:
            kept_index[rel] = history[rel]  # unchanged (incremental builds only)

    sources = {}  # rel -> the file as it was when its last good version was indexed

    def last_good(rels):
        """``{rel: Article}``: the last good versions of ``rels`` the current generation holds.

        An incremental build keeps them in the index as they are (``None``); a
        full build parses the copy of the file the current generation stored.
        """
        rels = [rel for rel in rels if rel in history]
        if incremental:
            return {rel: None for rel in rels}
        stored = store.stored_sources(current, rels) if current is not None and rels else {}
        found = {}
        for rel, source in stored.items():
            if hashlib.sha256(source).hexdigest() != history[rel]["sha256"]:
                continue
            try:
                found[rel] = parse_article(articles_dir / rel, source)
            except ArticleProblem:
                continue  # kb's rules changed since: that version is no good either
            sources[rel] = source
        return found

    fallback = last_good(broken)

    # 2. One slug, one article.  The file that owns a slug in the history keeps it
    # (a file changing its slug keeps its old one reserved for this build); a new
    # claimant is reported and skipped, or falls back to its last good version.
    # Files claiming a free slug in the same build: the first path wins.
    def slug_of(rel):
        if rel in wanted:
            return wanted[rel].slug
        if rel in kept_index:
            return kept_index[rel]["slug"]
        return history[rel]["slug"] if rel in fallback else None

    reserved = {history[rel]["slug"]: rel for rel in files if rel in history}
    owners, claimants = {}, []
    for rel in sorted(files):
        slug = slug_of(rel)
        if slug is None:
            continue
        if reserved.get(slug) == rel:
            owners[slug] = rel
        else:
            claimants.append(rel)
    for rel in claimants:
        slug = slug_of(rel)
        owner = owners.get(slug) or reserved.get(slug)
        if owner is None:
            owners[slug] = rel
            continue
        report.problems.append(duplicate_slug(wanted.pop(rel), articles_dir / owner))
        fallback.update(last_good([rel]))
        if rel in fallback:
            owners[history[rel]["slug"]] = rel  # reserved for it
    keep = {rel for rel in fallback if rel in history}  # last good versions served
    report.kept = sorted(str(articles_dir / rel) for rel in keep)
    synonym_groups = _read_staff_file(articles_dir, SYNONYMS_FILE, parse_synonyms, report.problems)
    curation_rules = _read_staff_file(articles_dir, CURATION_FILE, parse_curation, report.problems)
    report.problems.sort(key=lambda p: (p.path, p.line))

    # 3. What the new generation holds: in an incremental build, the current
    # index less what changed; in a full build, every article written afresh.
    entries = {}
    if incremental:
        for rel in kept_index:
            entries[rel] = dict(history[rel])
        for rel in keep:
            entries[rel] = dict(history[rel], problem=_problem_of(report.problems, articles_dir / rel))
        to_write = dict(wanted)
    else:
        to_write = {**wanted, **{rel: fallback[rel] for rel in keep}}
    replaced = {rel for rel in history if rel not in entries} if incremental else set()

    gen = generations.new_generation(index_dir)
    lease = generations.ReaderLease(gen)  # nobody may remove it while it is built
    try:
        if incremental:
            ix = store.GenerationIndex.based_on(gen, current, OWN_FILES)
            vocabulary = _vocabulary(ix, current, replaced)
        else:
            ix = store.GenerationIndex.create(gen)
            vocabulary = Counter()

        written = {}  # document id -> the text its vector is made of

        def documents():
            for rel in sorted(to_write):
                article = to_write[rel]
                source = files[rel][1] if rel in wanted else sources[rel]
                count = dict.fromkeys(KINDS, 0)
                for doc in article.documents():
                    fields = _fields(doc, article, rel)
                    if doc.kind == "article":
                        fields["source"] = zlib.compress(source, 1)  # for a later full build (level 1: fastest)
                        vocabulary.update(_vocabulary_words(doc.title, doc.summary, doc.keywords, doc.body))
                    if embedder is not None:
                        written[fields["id"]] = indexed_text(fields)
                    yield fields
                    count[doc.kind] += 1
                entries[rel] = {
                    "sha256": hashlib.sha256(source).hexdigest(),
                    "slug": article.slug,
                    "counts": count,
                    "names": [article.title, *article.synonyms],
                }
                if rel in keep:
                    entries[rel]["problem"] = _problem_of(report.problems, articles_dir / rel)

        ix.write(replaced, documents(), limitmb=limitmb, optimize=not incremental)
        totals = {k: sum(e["counts"][k] for e in entries.values()) for k in KINDS}
        _check(ix, totals, wanted, entries)
        report.problems.extend(_unknown_slugs(articles_dir, curation_rules, {e["slug"] for e in entries.values()}))
        report.problems.sort(key=lambda p: (p.path, p.line))
        if embedder is not None:
            kept_rels = [rel for rel in entries if rel not in to_write]  # incremental: left in the index as is
            report.vectors = _write_vectors(
                gen, ix, current, written, kept_rels, entries, sum(totals.values()), embedder, embed_progress
            )
        for rel, entry in entries.items():
            before = history.get(rel, {}).get("sha256")
            if rel in keep:
                continue
            if before is None:
                report.added += 1
            elif before != entry["sha256"]:
                report.changed += 1
            else:
                report.unchanged += 1
        report.removed = sum(1 for rel in history if rel not in files)
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
                "build_seconds": round(time.perf_counter() - started, 3),  # for /metrics
                "files": entries,
            },
        )
        ix.close()
        generations.write_json(
            gen / VOCABULARY, {w: n for w, n in vocabulary.items() if len(w) > 1 and not w.isdigit()}
        )
        names = [entries[rel]["names"] for rel in sorted(entries) if len(entries[rel].get("names", ())) > 1]
        generations.write_json(gen / SYNONYMS, {"groups": synonym_groups, "article_names": names})
        generations.write_json(gen / generations.CURATION, {"rules": curation_rules})
        generations.publish(index_dir, gen)
    except BaseException:
        lease.release()
        generations.remove_unused(index_dir)
        raise
    lease.release()
    return report


def _write_vectors(gen, ix, current, written, kept_rels, entries, expected, embedder, progress):
    """Write the generation's vectors: one per document, each embedded at most once.

    Documents written by this build are embedded unless the current generation
    holds a vector of the same text from the same model; those left in the
    index as they were (an incremental build) keep their rows, read back from
    the index only when the current generation has no usable vectors.
    """
    try:
        previous = vector_store.VectorStore.open(current) if current is not None else None
    except ValueError:
        previous = None  # a damaged vectors file: embed afresh
    ids, texts = list(written), list(written.values())
    copied = []
    if kept_rels:
        same = previous is not None and previous.model_id == embedder.model_id and previous.text == DOCUMENT_TEXT
        if same:
            slugs = {entries[rel]["slug"] for rel in kept_rels}
            copied = [row for row, doc_id in enumerate(previous.ids) if doc_id.split("#", 1)[0] in slugs]
        else:
            for fields in ix.stored_documents(kept_rels):
                ids.append(fields["id"])
                texts.append(indexed_text(fields))
    matrix, keys, report = vector_store.embed_cached(embedder, texts, previous, progress)
    if copied:
        matrix = np.vstack([matrix, np.asarray(previous.matrix[copied])])
        ids += [previous.ids[row] for row in copied]
        keys += [previous.keys[row] for row in copied]
        report.documents += len(copied)
        report.reused += len(copied)
    if len(set(ids)) != expected or len(ids) != expected:
        raise IndexCheckFailed(f"{len(ids)} vectors for {expected} documents")
    vector_store.write_vectors(gen, embedder.model_id, ids, keys, matrix, text=DOCUMENT_TEXT)
    return report


def _problem_of(problems, path):
    """The first problem reported for ``path`` (why its last good version is kept)."""
    return next((str(p) for p in problems if p.path == str(path)), "")


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


def _read_staff_file(articles_dir, name, parse, problems):
    """What ``parse`` reads from a staff-edited file beside the articles (synonyms,
    curation), or ``[]`` when there is none; its bad lines are added to ``problems``."""
    path = articles_dir / name
    if not path.exists():
        return []
    items, bad = parse(path.read_text("utf-8", "replace"), path)
    problems.extend(bad)
    return items


def _unknown_slugs(articles_dir, rules, slugs):
    """A problem for each curation id whose slug no article of the generation has (a typo would pin nothing)."""
    problems = []
    for rule in rules:
        for what, doc_id in [("pin", d) for d, _ in rule["pin"]] + [("hide", d) for d in rule["hide"]]:
            if doc_id.partition("#")[0] not in slugs:
                message = f"{what}: no article has the slug of {doc_id!r} (the rule's other parts still apply)"
                problems.append(CurationProblem(articles_dir / CURATION_FILE, rule["line"], message))
    return problems


def ensure_index(articles_dir, index_dir, progress=None, embedder=None, embed_progress=None):
    """Build the index if no generation is current yet (a fresh clone).

    :param embedder: as for :func:`build`: the first generation gets vectors too.

    :returns: the :class:`BuildReport`, or None when an index already existed.
    :raises KBError: there is no index and no articles directory to build one
        from (serving an empty index would hide the mistake).
    """
    if generations.current_name(index_dir) is not None:
        return None
    if not Path(articles_dir).is_dir():
        raise KBError(f"articles directory {articles_dir} does not exist")
    try:
        return build(
            articles_dir, index_dir, full=True, progress=progress, embedder=embedder, embed_progress=embed_progress
        )
    except IndexBusy:
        return None  # someone else is building it; the engine serves it when published
