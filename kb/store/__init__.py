"""kb's storage engine: the only code that imports Whoosh.

- :mod:`kb.store.schema`: the schema, the analyzer and the field weights.
- :mod:`kb.store.writer`: writing a generation's index (what :mod:`kb.indexer` needs).

Everything above this package sees plain Python values: field dicts, paths,
counts.  (The read side of :mod:`kb.search` still opens Whoosh itself until it
moves here too.)
"""
