"""kb's logs: stdlib ``logging``, named loggers, one configuration, JSON or text lines.

Loggers (children of ``kb``):

- ``kb.index``: build summaries (``build finished`` with its counts; a failed build
  raises, and ``kb index`` reports it);
- ``kb.search``: generations loaded, swapped in, or failing to load (with the exception);
- ``kb.web``: one ``request`` line per HTTP request (:mod:`kb.access`) and
  unexpected errors.

:func:`configure_logging` is called once per process by the ``kb`` command and
:func:`kb.web.get_app`; it gives the ``kb`` logger one handler on stderr:

- ``KB_LOG_FORMAT=json``: one JSON object a line, by python-json-logger
  (``{"time": ..., "level": "INFO", "logger": "kb.web", "message": "request", "route": ...}``);
  ``text``: ``time LEVEL logger message key=value ...``; ``auto`` (the default):
  text on a terminal, JSON otherwise.
- ``KB_LOG_LEVEL``: ``debug``, ``info``, ``warning``, ``error``.  By default
  ``info`` for the service (``kb serve``, ``waitress-serve --call kb.web:get_app``)
  and ``warning`` for the other commands, whose own output already says what
  happened (set ``KB_LOG_LEVEL=info`` for a JSON build summary from a cron job).

Queries are health data: no logger writes query text unless
``KB_LOG_QUERIES=1``; none ever writes an IP address or a user agent.
"""

import logging
import sys

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

FORMATS = ("auto", "json", "text")
LEVELS = ("debug", "info", "warning", "error", "critical")
_RESERVED = set(RESERVED_ATTRS) | {"taskName"}


class TextFormatter(logging.Formatter):
    """``2026-11-29T21:00:00Z INFO kb.web request route=/search status=200 ...``."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%SZ")
        self.converter = _utc

    def format(self, record):
        line = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in _RESERVED and k[0] != "_")
        if extra:
            head, _, tail = line.partition("\n")  # keep a traceback below the line
            line = f"{head} {extra}" + (f"\n{tail}" if tail else "")
        return line


class _StderrHandler(logging.StreamHandler):
    """A handler on whatever ``sys.stderr`` is when a line is written (as pytest's capture swaps it)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def _utc(seconds):
    import time

    return time.gmtime(seconds)


def json_formatter():
    """python-json-logger's formatter with kb's field names."""
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )


def configure_logging(config, stream=None, default_level="info"):
    """Give the ``kb`` logger its one handler, as ``config`` says.

    Calling it again replaces the handler (the level and format may change);
    the ``kb`` logger does not propagate, so a root handler (pytest's, or one
    another library installs) never prints a kb line twice.

    :param config: a :class:`~kb.config.Config` (``log_level``, ``log_format``).
    :param stream: where lines go (default: ``sys.stderr`` at call time).
    :param default_level: the level when ``config.log_level`` is empty.
    :raises ValueError: an unknown level or format, naming the variable.
    """
    level = str(config.log_level or default_level).lower()
    if level not in LEVELS:
        raise ValueError(f"KB_LOG_LEVEL must be one of {', '.join(LEVELS)}, not {config.log_level!r}")
    fmt = str(config.log_format).lower()
    if fmt not in FORMATS:
        raise ValueError(f"KB_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {config.log_format!r}")
    if fmt == "auto":
        fmt = "text" if getattr(stream or sys.stderr, "isatty", lambda: False)() else "json"
    logger = logging.getLogger("kb")
    for handler in [h for h in logger.handlers if getattr(h, "_kb", False)]:
        logger.removeHandler(handler)
    handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(json_formatter() if fmt == "json" else TextFormatter())
    handler._kb = True
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
    return logger
