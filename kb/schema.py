"""The Whoosh schema, its analyzer and the field boosts: kb's engine constants.

Only :mod:`kb.schema`, :mod:`kb.indexer` and :mod:`kb.search` import Whoosh.
"""

from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.lang import porter2
from whoosh.support.charset import accent_map

#: Bump when the schema or the analyzer changes: an index built with another
#: version is rebuilt in full rather than updated.
SCHEMA_VERSION = 1

#: Words never indexed or searched ("the", "of", ...): Whoosh's English list.
STOP_WORDS = StopFilter().stops

TOKEN_PATTERN = r"\w+(?:['’.]\w+)*"


def make_analyzer(stem=True):
    """Tokenize on words, lower-case, fold accents, drop stop words, then stem.

    Porter2 is used because Whoosh's default stemmer leaves "running" as "runn".

    >>> [t.text for t in make_analyzer()("Running the Café's tests")]
    ['run', "cafe'", 'test']
    """
    chain = (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=STOP_WORDS, minsize=1)
    )
    return chain | StemFilter(stemfn=porter2.stem, cachesize=200_000) if stem else chain


ANALYZER = make_analyzer()

#: Query-time boosts, BM25F-style: a title or FAQ question outranks body text.
FIELD_BOOSTS = {
    "title": 4.0,
    "keywords": 2.5,
    "article_title": 1.5,
    "summary": 1.5,
    "body": 1.0,
}

SCHEMA = Schema(
    id=ID(stored=True, unique=True),
    kind=ID(stored=True),
    slug=ID(stored=True),
    path=ID(stored=True),
    title=TEXT(analyzer=ANALYZER, stored=True),
    article_title=TEXT(analyzer=ANALYZER, stored=True),
    summary=TEXT(analyzer=ANALYZER, stored=True),
    keywords=TEXT(analyzer=ANALYZER, stored=True),
    body=TEXT(analyzer=ANALYZER, stored=True),
    url=STORED,
    anchor=STORED,
    position=STORED,
    markdown=STORED,
    meta=STORED,
)
