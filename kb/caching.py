"""HTTP hygiene for every kb response: ETags, 304s, Cache-Control, Vary.

One Falcon middleware, :class:`HttpCaching`, added by :func:`kb.web.create_app`:

- ``/search``, ``/suggest``, ``/articles/{slug}`` and the search page ``/`` answer
  from one index generation, so their ETag is derived from the generation and
  the request URL (plus the representation, JSON or HTML, of an article).  A
  request whose ``If-None-Match`` holds the ETag of the generation now served
  gets ``304 Not Modified`` before any searching is done.  The ETags are weak
  (``W/"…"``): ``took_ms`` differs between two equal answers.
- ``If-None-Match`` only ever turns a 200 into a 304: the ETag is an HMAC
  with a key kept in the index directory (``.etag-key``, shared by the
  workers), so only kb can make one, and kb gives one only with a 200; ``*``
  (or a directory where the key cannot be kept) waits for the answer and is a
  304 only if that is a 200.  A 404 or 400 stays what it is.
- They are ``Cache-Control: public, max-age=60``: a browser or CDN may reuse an
  answer for a minute after a reindex, then revalidates it.
- Files that change only with a new kb release (``/widget.js``, ``/widget.css``,
  ``/openapi.json``) get a strong ETag of their bytes and ``max-age=300``;
  ``/health`` and every error are ``no-store``.
- ``Vary: Origin`` on every response when a CORS allow-list is configured (the
  ``Access-Control-Allow-Origin`` header depends on it), ``Vary: Accept`` on
  ``/articles/{slug}`` (JSON or HTML by content negotiation).
"""

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from falcon import mediatypes

from .errors import KBError

#: Cache-Control of answers that depend on the index generation.
GENERATION_CACHE = "public, max-age=60"
#: Cache-Control of the widget's files and the OpenAPI document.
STATIC_CACHE = "public, max-age=300"
#: Exact paths whose answer depends only on the URL and the index generation.
GENERATION_PATHS = frozenset({"/", "/search", "/suggest"})
#: Path prefix of the article pages, JSON or HTML by the Accept header.
ARTICLE_PREFIX = "/articles/"
#: The file in the index directory holding the key of the generation ETags.
ETAG_KEY = ".etag-key"


def wants_html(req):
    """True when the client ranks ``text/html`` above ``application/json``.

    Browsers do (``text/html,…,*/*;q=0.8``); API clients sending no Accept,
    ``*/*`` or ``application/json`` get JSON, the default.
    """
    accept = req.get_header("Accept")
    if not accept:
        return False
    try:
        return mediatypes.quality("text/html", accept) > mediatypes.quality("application/json", accept)
    except ValueError:  # a malformed Accept header: serve the default
        return False


def strong_etag(data):
    """A strong ETag for fixed bytes (a static file, the OpenAPI document)."""
    return f'"{hashlib.sha256(data).hexdigest()[:20]}"'


def generation_etag(generation, url, variant="", key=b""):
    """The weak ETag of the answer to ``url`` from index ``generation`` (an HMAC with ``key``)."""
    message = f"{generation}\n{url}\n{variant}".encode("utf-8", "surrogatepass")
    return f'W/"{hmac.new(key, message, hashlib.sha256).hexdigest()[:20]}"'


def etag_key(index_dir):
    """The secret of the generation ETags, made once per index directory; None if it can't be kept.

    Every worker serving ``index_dir`` reads the same key, so an ETag from one
    is recognised by all; the first to need it creates it (atomically: the
    loser of a race reads the winner's).
    """
    path = Path(index_dir) / ETAG_KEY
    try:
        try:
            return path.read_bytes() or None
        except FileNotFoundError:
            pass
        tmp = path.with_name(f".{ETAG_KEY}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        return path.read_bytes() or None
    except OSError:
        return None


def names_etag(if_none_match, etag):
    """Whether ``If-None-Match`` names ``etag`` itself (weak comparison; ``*`` is not a name)."""
    return any(c.strip() != "*" and etag_matches(c, etag) for c in (if_none_match or "").split(","))


def etag_matches(if_none_match, etag):
    """Weak comparison (RFC 9110 13.1.2) of an ``If-None-Match`` header with ``etag``."""
    if not if_none_match or not etag:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def _serving_generation(engine):
    """The name of the generation ``engine`` answers from now, or None (no index)."""
    try:
        return engine.generation_name()
    except KBError:
        return None


class HttpCaching:
    """ETag/304, Cache-Control and Vary for every response (see the module doc).

    :param engine: the :class:`~kb.search.Engine` the app answers from.
    :param cors: whether a CORS allow-list is configured (adds ``Vary: Origin``).
    """

    def __init__(self, engine, cors=False):
        self.engine = engine
        self.cors = cors
        self._key = None

    def _etag_key(self):
        """The ETag key of the engine's index directory, once it can be had."""
        if self._key is None:
            index_dir = getattr(self.engine, "index_dir", None)
            self._key = etag_key(index_dir) if index_dir is not None else None
        return self._key

    def _variant(self, req):
        if req.path.startswith(ARTICLE_PREFIX):
            return "html" if wants_html(req) else "json"
        return ""

    def _by_generation(self, req):
        return req.method in ("GET", "HEAD") and (req.path in GENERATION_PATHS or req.path.startswith(ARTICLE_PREFIX))

    def process_resource(self, req, resp, resource, params):
        """Answer 304 at once when the client already has this generation's answer.

        Runs once the request is routed (an unknown path never gets here), so
        the access log still names the route of a 304.
        """
        if not self._by_generation(req):
            return
        generation = _serving_generation(self.engine)
        req.context.kb_generation = generation
        key = self._etag_key()
        if generation is None or key is None:
            return  # the answer decides (process_response)
        etag = generation_etag(generation, req.relative_uri, self._variant(req), key)
        if names_etag(req.get_header("If-None-Match"), etag):  # kb gave it, with a 200
            resp.status = 304
            resp.etag = etag
            resp.complete = True  # skip the responder: nothing is searched

    def process_response(self, req, resp, resource, req_succeeded):
        if self.cors:
            resp.append_header("Vary", "Origin")
        if req.path.startswith(ARTICLE_PREFIX):
            resp.append_header("Vary", "Accept")
        resp.set_header("X-Content-Type-Options", "nosniff")
        status = resp.status_code
        if status == 304:
            resp.cache_control = [GENERATION_CACHE if self._by_generation(req) else STATIC_CACHE]
            return
        if status >= 400 or req.path == "/health":
            resp.cache_control = ["no-store"]
            return
        if status != 200 or req.method not in ("GET", "HEAD"):
            return
        if self._by_generation(req):
            # The generation the answer came from, if it says; otherwise the one
            # served when the request arrived (never newer than the answer's).
            media = resp.media if isinstance(resp.media, dict) else {}
            generation = media.get("generation") or getattr(resp.context, "kb_generation", None)
            generation = generation or getattr(req.context, "kb_generation", None)
            if generation:
                key = self._etag_key() or b""
                resp.etag = generation_etag(generation, req.relative_uri, self._variant(req), key)
                resp.cache_control = [GENERATION_CACHE]
        elif resp.etag:  # a static resource set a strong ETag of its bytes
            resp.cache_control = [STATIC_CACHE]
        if resp.etag and etag_matches(req.get_header("If-None-Match"), resp.etag):
            resp.status = 304
            resp.media = resp.data = resp.text = None
            resp.delete_header("Content-Type")
