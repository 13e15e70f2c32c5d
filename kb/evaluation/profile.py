"""``kb eval --set name=value``: ranking-profile overrides for experiments.

Values are parsed here (numbers, ``true``/``false``, comma-separated numbers for
a tuple, JSON lists and objects; ``name.key=value`` sets one entry of a mapping
such as the field weights); the names and types are checked against the engine's
``RankingProfile`` and applied with its ``with_overrides``.  An engine without
profile support is refused with a clear error rather than silently ignored.
"""

import dataclasses
import importlib
import inspect
import json
import math
import re
from collections.abc import Mapping, Set

from ..errors import KBError

_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
PROFILE_MODULES = ("kb.search", "kb.search.profile", "kb.search.ranking")


class BadOverride(KBError):
    """A ``--set`` name or value that does not fit the ranking profile."""


class NoProfileSupport(BadOverride):
    """The engine has no ranking profile, so ``--set`` cannot be honoured."""

    hint = "--set needs the engine's RankingProfile (the engine v2 issue); run without --set."


def parse_value(raw):
    """A value from its text: JSON (a number, ``true``/``false``, a list, an object)
    or comma-separated numbers (a tuple); ValueError otherwise.  Lists become tuples."""
    text = raw.strip()
    try:
        value = json.loads(text)
    except ValueError:
        if "," not in text:
            raise ValueError(
                f"{raw!r} is not a number, true/false, comma-separated numbers or JSON (a list or an object)"
            ) from None
        value = [parse_value(part) for part in text.split(",")]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise ValueError(f"{raw!r}: comma-separated values must be numbers") from None
    if isinstance(value, str) or value is None:
        raise ValueError(f"{raw!r} is not a number, true/false, a list or an object")
    return _frozen_value(raw, value)


def _frozen_value(raw, value):
    if isinstance(value, list):
        return tuple(_frozen_value(raw, v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen_value(raw, v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{raw!r} is not a finite number")
    return value


def parse_override(item):
    """``(name, value)`` from ``name=value``, or ``(name, {key: value})`` from
    ``name.key=value`` (one entry of a mapping setting); ValueError with the reason otherwise."""
    name, eq, raw = item.partition("=")
    name = name.strip()
    if not eq or not raw.strip():
        raise ValueError(f"{item!r}: expected name=value, e.g. k1=2.5")
    if not _NAME.match(name):
        raise ValueError(f"{item!r}: {name!r} is not a profile setting name (lower-case letters, digits, _)")
    value = parse_value(raw)
    name, dot, key = name.partition(".")
    return (name, {key: value}) if dot else (name, value)


def merge_overrides(pairs):
    """``{name: value}`` from ``(name, value)`` pairs; later ones win, mapping entries merge."""
    out = {}
    for name, value in pairs:
        if isinstance(value, dict) and isinstance(out.get(name), dict):
            out[name] = {**out[name], **value}
        else:
            out[name] = value
    return out


def find_profile_class():
    """The engine's ``RankingProfile`` class, or None if this engine has none."""
    for module in PROFILE_MODULES:
        try:
            found = getattr(importlib.import_module(module), "RankingProfile", None)
        except ImportError:
            continue
        if found is not None:
            return found
    return None


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_type(name, default, value):
    if isinstance(default, bool) or isinstance(value, bool):
        ok = isinstance(default, bool) and isinstance(value, bool)
    elif isinstance(default, (int, float)):
        ok = _is_number(value)
    elif isinstance(default, tuple):
        ok = isinstance(value, tuple) and len(value) == len(default) and all(map(_is_number, value))
    elif isinstance(default, Mapping):
        ok = isinstance(value, dict) and set(value) <= set(default) and all(map(_is_number, value.values()))
    elif isinstance(default, Set):
        ok = isinstance(value, tuple) and all(isinstance(v, str) for v in value)
    else:
        ok = True  # a type this parser cannot produce is left to with_overrides
    if not ok:
        raise BadOverride(f"--set {name}: {value!r} does not fit the setting's default {default!r}")


def make_profile(overrides, engine_cls):
    """The profile to pass as ``engine_cls(..., profile=...)``, or None without overrides.

    :raises NoProfileSupport: the engine takes no profile.
    :raises BadOverride: a name or value does not fit the profile.
    """
    if not overrides:
        return None
    profile_cls = find_profile_class()
    if profile_cls is None or "profile" not in inspect.signature(engine_cls).parameters:
        raise NoProfileSupport(
            f"--set {', '.join(overrides)}: this engine has no ranking profile "
            "(no RankingProfile, or Engine takes no profile=), so the overrides cannot be applied"
        )
    base = profile_cls()
    if dataclasses.is_dataclass(base):
        known = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
        for name, value in overrides.items():
            if name not in known:
                raise BadOverride(f"--set {name}: no such profile setting; known: {', '.join(sorted(known))}")
            _check_type(name, known[name], value)
    try:
        return base.with_overrides(**overrides)
    except (TypeError, ValueError) as e:
        raise BadOverride(f"--set: the profile refused the overrides: {e}") from None
