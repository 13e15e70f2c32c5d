"""kb: a searchable knowledge base of Markdown articles with FAQs.

Articles (``articles/*.md``) are parsed by :mod:`kb.articles`, indexed by
:mod:`kb.indexer` into generations managed by :mod:`kb.generations`, searched by
:mod:`kb.search`, and served over HTTP by :mod:`kb.web`.  :mod:`kb.cli` is the
``kb`` command.
"""

__version__ = "0.1.0"
