"""kb's benchmark harness: index build, search latency, HTTP load, memory.

Run it with ``python -m bench.run --corpus ... --liveqa ...`` (see bench/README.md).
Nothing here is imported by kb; the harness only calls kb's public entry points
(:func:`kb.indexer.build`, :class:`kb.search.Engine`, ``python -m kb ...``).
"""
