"""The read side of a Whoosh index: open it, read postings as arrays, fetch stored fields.

The search engine (:mod:`kb.search`) scores on its own arrays; it asks this
module for what a generation holds and never touches Whoosh itself.

:func:`read_postings` reads Whoosh 2.7's W3 posting blocks directly, through
private attributes of its matchers (``_terms``, ``_read_ids``, ``_read_weights``,
``_next_block``), because one Python call per posting cost 60-400 ms a query.
It is pinned to :data:`WHOOSH_VERSION` (``setup.py`` pins whoosh-reloaded to
it) and ``tests/test_store_reader.py`` checks it against Whoosh's public API.
"""

import numpy as np
import whoosh
from whoosh import index as whoosh_index
from whoosh.reading import TermNotFound

#: The Whoosh release whose private block format :func:`read_postings` reads.
WHOOSH_VERSION = (2, 7, 5)

NO_POSTINGS = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def check_version():
    """Raise RuntimeError unless the installed Whoosh is the pinned one."""
    if tuple(whoosh.__version__[:3]) != WHOOSH_VERSION:
        raise RuntimeError(f"kb.store.reader reads Whoosh {WHOOSH_VERSION}'s blocks; {whoosh.__version__} is installed")


class IndexReader:
    """One open generation: document counts, lexicons, lengths, postings, stored fields.

    Not safe to use from two threads at once (WHOOSH.md, hazard 1): callers
    serialise reads (the search snapshot holds a lock around them).
    """

    def __init__(self, path):
        check_version()
        self._index = whoosh_index.open_dir(path)
        try:
            self._reader = self._index.reader()
        except Exception:
            self._index.close()
            raise

    def doc_count_all(self):
        """Document numbers in use, deleted ones included."""
        return self._reader.doc_count_all()

    def live_doc_ids(self):
        """The doc numbers of documents not deleted, as an array."""
        return np.fromiter(self._reader.all_doc_ids(), dtype=np.int64)

    def lexicon(self, field):
        """The terms of ``field`` as strings, in order."""
        return [t.decode("utf-8") for t in self._reader.lexicon(field)]

    def field_lengths(self, field, n):
        """Every document's length (terms) in ``field`` as a float32 array of ``n``."""
        length = self._reader.doc_field_length
        return np.fromiter((length(d, field) or 0 for d in range(n)), dtype=np.float32, count=n)

    def postings(self, field, term):
        """``(doc ids, term frequencies)`` of ``term`` in ``field`` (see :func:`read_postings`)."""
        return read_postings(self._reader, field, term)

    def stored_fields(self, docnum):
        """A document's stored fields as a dict."""
        return self._reader.stored_fields(int(docnum))

    def close(self):
        self._reader.close()
        self._index.close()


def read_postings(reader, field, term):
    """All ``(doc ids, term frequencies)`` of a term, read a block at a time.

    Ids and weights come out as arrays instead of one Python call per posting.
    Deleted documents are included; callers mask them.
    """
    btext = term.encode("utf-8") if isinstance(term, str) else term
    ids_parts, tf_parts = [], []
    for leaf, offset in reader.leaf_readers():
        terms = getattr(leaf, "_terms", None)  # an empty index has an EmptyReader
        if terms is None:
            continue
        try:
            m = terms.matcher(field, btext, leaf.schema[field].format)
        except (TermNotFound, KeyError):
            continue
        while m.is_active():
            m._read_ids()
            m._read_weights()
            ids_parts.append(np.asarray(m._ids, dtype=np.int64) + offset)
            tf_parts.append(np.asarray(m._weights, dtype=np.float32))
            m._next_block()
    if not ids_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    return np.concatenate(ids_parts), np.concatenate(tf_parts)
