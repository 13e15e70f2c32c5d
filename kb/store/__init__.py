"""kb's storage engine: the only code that imports Whoosh.

- :mod:`kb.store.schema`: the schema and the analyzer.
- :mod:`kb.store.writer`: writing a generation's index (what :mod:`kb.indexer` needs).
- :mod:`kb.store.reader`: reading one (postings, lengths, stored fields; what :mod:`kb.search` needs).

Everything above this package sees plain Python values: field dicts, arrays,
paths, counts.
"""
