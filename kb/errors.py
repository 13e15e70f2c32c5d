"""Exceptions raised by kb's core.  The web and CLI layers map them once."""


class KBError(Exception):
    """Base class of every error kb's core raises on purpose."""


class ArticleProblem(KBError):
    """An article that cannot be indexed, located as ``path:line``."""

    def __init__(self, path, line, message):
        super().__init__(f"{path}:{line}: {message}")
        self.path = str(path)
        self.line = line
        self.message = message


class IndexMissing(KBError):
    """No index generation has been built yet."""

    hint = "Run `kb index` (or `python scripts/reindex.py`) to build it."


class IndexBusy(KBError):
    """Another ``kb index`` holds the write lock."""


class IndexCheckFailed(KBError):
    """A freshly built generation failed its checks and was not made current."""


class NotFound(KBError):
    """A named thing (an article slug) does not exist in the index."""


class BadQuery(KBError):
    """A search request with a parameter that cannot be honoured."""

    def __init__(self, parameter, message):
        super().__init__(message)
        self.parameter = parameter
        self.message = message
