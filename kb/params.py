"""Query parameters as the API documents them: typed, given at most once, never blank.

The OpenAPI document types ``limit``, ``offset``, ``page`` as integers and
``kind``, ``group`` as enumerations, so ``limit=`` (blank) and ``limit=1&limit=2``
(given twice) are not requests it describes: each is a :class:`~kb.errors.BadQuery`
naming the parameter (HTTP 400), never a silent default or "the last one wins".
"""

import falcon

from .errors import BadQuery


def single(req, name):
    """The one value of ``name`` in the query string, or None if absent.

    :raises BadQuery: the parameter is given more than once.
    """
    value = req.params.get(name)
    if isinstance(value, list):
        raise BadQuery(name, f"{name} is given {len(value)} times: give it once")
    return value


def typed(req, name):
    """The one, non-blank value of a typed parameter, or None if absent.

    :raises BadQuery: given more than once, or blank (``limit=``).
    """
    value = single(req, name)
    if value is not None and not value.strip():
        raise BadQuery(name, f"{name} is blank: give a value or leave {name} out")
    return value


def int_param(req, name, default, low, high):
    """A whole number from ``low`` to ``high``; ``default`` when the parameter is absent.

    Parsed by Falcon's ``req.get_param_as_int`` once :func:`typed` has refused
    blank and repeated values; its errors are reworded in kb's own terms.
    """
    raw = typed(req, name)
    if raw is None:
        return default
    try:
        value = req.get_param_as_int(name)
    except falcon.HTTPInvalidParam:
        raise BadQuery(name, f"{name} must be a whole number, not {raw[:40]!r}") from None
    if not low <= value <= high:
        raise BadQuery(name, f"{name} must be between {low} and {high}")
    return value


def bool_param(req, name):
    """``true``/``1``/``yes`` or ``false``/``0``/``no`` (any case); False when the parameter is absent.

    :raises BadQuery: given more than once, blank, or another word.
    """
    raw = typed(req, name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise BadQuery(name, f"{name} must be true or false, not {raw[:40]!r}")
