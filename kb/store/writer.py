"""Writing one generation's Whoosh index: every Whoosh call :mod:`kb.indexer` makes.

The indexer decides what goes in (documents as field dicts, paths to delete);
this module knows how Whoosh stores it::

    index = GenerationIndex.create(gen_path)          # full build: empty
    index = GenerationIndex.based_on(gen_path, base)  # incremental: base's segments
    index.write(delete_paths, documents)              # one commit
    index.check(expected_count, slug, title)          # refuse a bad generation
    index.close()
"""

import os
import zlib

from whoosh import index as whoosh_index
from whoosh.query import Term

from ..errors import IndexCheckFailed
from .schema import ANALYZER, SCHEMA


def exists(gen_path):
    """Whether ``gen_path`` holds a Whoosh index."""
    return whoosh_index.exists_in(gen_path)


def stored_sources(gen_path, paths):
    """``{path: bytes}``: the article files as a published generation stored them.

    A path whose article the generation does not hold (or holds without its
    file, as indexes of schema version 3 and older do) is left out.
    """
    found = {}
    ix = whoosh_index.open_dir(gen_path)
    try:
        with ix.searcher() as searcher:
            for rel in paths:
                for doc in searcher.documents(path=rel, kind="article"):
                    if doc.get("source") is not None:
                        found[rel] = zlib.decompress(doc["source"])
    finally:
        ix.close()
    return found


class GenerationIndex:
    """The Whoosh index of a generation being built."""

    def __init__(self, ix):
        self._ix = ix

    @classmethod
    def create(cls, gen_path):
        """An empty index in ``gen_path`` (a full build)."""
        return cls(whoosh_index.create_in(gen_path, SCHEMA))

    @classmethod
    def based_on(cls, gen_path, base, own_files=()):
        """An index in ``gen_path`` sharing ``base``'s segment files (an incremental build).

        Segment files never change once written (deletions live in the TOC), so
        the new index starts from hard links and leaves ``base`` untouched.

        :param own_files: names of kb's own files in ``base``, not to be linked.
        """
        for src in base.iterdir():
            if src.is_file() and "LOCK" not in src.name.upper() and src.name not in own_files:
                os.link(src, gen_path / src.name)
        return cls(whoosh_index.open_dir(gen_path))

    def stored_articles(self, paths):
        """Yield the stored fields of the article documents of ``paths`` (as indexed now)."""
        with self._ix.searcher() as searcher:
            for rel in paths:
                yield from searcher.documents(path=rel, kind="article")

    def stored_documents(self, paths):
        """Yield the stored fields of every document (any kind) of ``paths`` (as indexed now)."""
        with self._ix.searcher() as searcher:
            for rel in paths:
                yield from searcher.documents(path=rel)

    def write(self, delete_paths, documents, limitmb=256, optimize=False):
        """Delete every document of ``delete_paths``, add ``documents``, commit once.

        :param documents: field dicts (see :data:`~kb.store.schema.SCHEMA`).
        """
        # Separate segment files, mapped by readers; a compound file is copied into
        # each reader's memory (~42 MB for MedQuAD).
        writer = self._ix.writer(limitmb=limitmb, compound=False)
        try:
            for rel in delete_paths:
                writer.delete_by_term("path", rel)
            for fields in documents:
                writer.add_document(**fields)
            writer.commit(optimize=optimize)
        except BaseException:
            writer.cancel()  # WHOOSH.md hazard 3: a failed commit keeps the lock otherwise
            raise

    def check(self, expected, slug=None, title=""):
        """Refuse a generation whose document count or smoke search is wrong.

        :param expected: the number of live documents it must hold.
        :param slug: an article that a search for the first word of ``title``
            (or for its slug) must find.
        :raises IndexCheckFailed: with what was wrong.
        """
        with self._ix.searcher() as s:
            if s.doc_count() != expected:
                raise IndexCheckFailed(f"index holds {s.doc_count()} documents, expected {expected}")
            if slug is None:
                return
            terms = ANALYZER.terms(title)
            query = Term("title", terms[0]) if terms else Term("slug", slug)
            if slug not in {hit["slug"] for hit in s.search(query, limit=None)}:
                raise IndexCheckFailed(f"smoke search for article {slug!r} did not find it")

    def close(self):
        self._ix.close()
