"""API keys with scopes, for the write API and the analytics reports.

Keys come from ``KB_API_KEYS`` (space-separated ``scope:secret`` pairs, e.g.
``KB_API_KEYS="write:s3cret analytics:r3port"``) and from the file named by
``KB_API_KEYS_FILE`` (the same pairs, one or more a line, ``#`` comments).
A client sends ``Authorization: Bearer <secret>``.

- Scopes: ``write`` (``PUT``/``DELETE /articles/{slug}``, ``POST /reindex``) and
  ``analytics`` (``GET /analytics``, the staff page).  A secret listed under
  both scopes has both.
- Secrets are compared in constant time (:func:`hmac.compare_digest` of their
  SHA-256 digests, against every key, so neither the length nor which key
  matched shows in the timing) and never logged, printed or put in an error.
- No key configured for a scope: every request needing it is refused.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from .errors import KBError

SCOPES = ("write", "analytics")


class Unauthorized(KBError):
    """No credentials, or credentials that match no key (HTTP 401)."""


class Forbidden(KBError):
    """A valid key without the scope needed, or no key configured for it (HTTP 403)."""


def _digest(secret):
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def parse_keys(text, source):
    """``[(scope, secret)]`` from ``scope:secret`` pairs separated by white space.

    :param source: named in errors (``KB_API_KEYS``, or the file's path).
    :raises ValueError: a pair without a known scope or with an empty secret;
        the message names the pair by its number, never its secret.

    >>> parse_keys("write:a analytics:b:c", "KB_API_KEYS")
    [('write', 'a'), ('analytics', 'b:c')]
    """
    pairs = []
    for n, item in enumerate(text.split(), 1):
        scope, sep, secret = item.partition(":")
        if not sep or not secret:
            raise ValueError(f"{source}: key {n} is not of the form scope:secret")
        if scope not in SCOPES:
            raise ValueError(f"{source}: key {n} has the unknown scope {scope[:20]!r}; scopes: {', '.join(SCOPES)}")
        pairs.append((scope, secret))
    return pairs


@dataclass(frozen=True)
class ApiKeys:
    """The configured keys, as ``(scope, SHA-256 of the secret)`` pairs."""

    keys: tuple = ()

    @classmethod
    def from_config(cls, config):
        """Keys of ``KB_API_KEYS`` and ``KB_API_KEYS_FILE``.

        :raises ValueError: a malformed pair, or a key file that cannot be read.
        """
        pairs = parse_keys(config.api_keys or "", "KB_API_KEYS")
        if config.api_keys_file:
            path = Path(config.api_keys_file)
            try:
                text = path.read_text("utf-8")
            except OSError as e:
                raise ValueError(f"KB_API_KEYS_FILE: cannot read {path}: {e.strerror}") from None
            lines = [line.split("#", 1)[0] for line in text.splitlines()]
            pairs += parse_keys(" ".join(lines), str(path))
        return cls(tuple((scope, _digest(secret)) for scope, secret in pairs))

    def configured(self, scope):
        """Whether any key has ``scope``."""
        return any(s == scope for s, _ in self.keys)

    def scopes_of(self, secret):
        """The scopes ``secret`` grants (empty when it matches no key)."""
        given = _digest(secret)
        scopes = set()
        for scope, digest in self.keys:  # every key, whatever matched before
            if hmac.compare_digest(given, digest):
                scopes.add(scope)
        return scopes

    def check(self, authorization, scope, basic=False):
        """Raise unless the ``Authorization`` header holds a key with ``scope``.

        :param basic: also accept ``Basic`` credentials whose password is the
            key (any user name): a browser's login prompt, for the staff page.
        :raises Forbidden: no key has ``scope``, or the key lacks it.
        :raises Unauthorized: no credentials, or a key that matches none.
        """
        if not self.configured(scope):
            raise Forbidden(f"no API key with the {scope!r} scope is configured (KB_API_KEYS), so this is refused")
        secret = _secret(authorization or "", basic)
        if secret is None:
            raise Unauthorized(f"an API key with the {scope!r} scope is required: Authorization: Bearer <key>")
        scopes = self.scopes_of(secret)
        if not scopes:
            raise Unauthorized("the API key is not valid")
        if scope not in scopes:
            raise Forbidden(f"the API key does not have the {scope!r} scope")


def _secret(authorization, basic):
    kind, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if kind.lower() == "bearer" and value:
        return value
    if basic and kind.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except ValueError:
            return None
        return decoded.partition(":")[2] or None
    return None
