"""The Whoosh schema and the analyzer shared by index and query.

The field weights and every other ranking constant live in
:class:`kb.search.profile.RankingProfile`.
"""

from collections import Counter

from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.lang import porter2
from whoosh.system import pack_uint

from ..text import Analyzer

#: Bump when the schema or the analyzer changes: an index built with another
#: version is rebuilt in full rather than updated.
SCHEMA_VERSION = 4

#: Folded words -> Porter2 stems (Whoosh's default stemmer leaves "running" as
#: "runn"; WHOOSH.md hazard 7), stop words dropped.  Index and queries share it.
ANALYZER = Analyzer(porter2.stem)


class Terms(TEXT):
    """A text field indexed by :data:`ANALYZER` in one pass.

    Whoosh's own analyzer chain (tokenizer, four filters, a Token object per
    word) was 40% of the build time; this yields the same postings (term
    frequencies, no positions) from one regular expression and a term cache.
    """

    def __init__(self, stored=False):
        super().__init__(stored=stored, phrase=False)

    def index(self, value, **kwargs):
        for term, freq in Counter(ANALYZER.terms(value)).items():
            yield term.encode("utf-8"), freq, float(freq), pack_uint(freq)


SCHEMA = Schema(
    id=ID(stored=True, unique=True),
    kind=ID(stored=True),
    slug=ID(stored=True),
    path=ID(stored=True),
    title=Terms(stored=True),
    article_title=Terms(stored=True),
    summary=Terms(stored=True),
    keywords=Terms(stored=True),
    body=Terms(stored=True),
    url=STORED,
    anchor=STORED,
    position=STORED,
    markdown=STORED,
    meta=STORED,
    source=STORED,  # an article's file, zlib-compressed: its last good version
)
