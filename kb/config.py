"""kb's one configuration object, read from ``KB_*`` variables and CLI flags."""

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path


def _split_list(value):
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class Config:
    """Everything kb needs to know.  Defaults work from a fresh clone.

    Each field can be set by an environment variable named ``KB_`` plus the
    field name in capitals (``KB_INDEX_DIR=/srv/kb/index``); CLI flags override
    the environment.
    """

    articles_dir: Path = Path("articles")
    index_dir: Path = Path("index")
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 4
    workers: int = 0  # 0: one per CPU
    cors_origins: tuple = ()
    reload_seconds: float = 1.0
    cache_mb: float = 32.0
    # Serving (kb/serving.py): slots per worker, seconds before an idle connection
    # or an incomplete request is closed, seconds a stopping worker may finish requests.
    connection_limit: int = 1000
    idle_timeout: float = 30.0
    request_timeout: float = 10.0
    drain_seconds: float = 10.0
    log_level: str = ""  # "": info for kb serve, warning for the other commands
    log_format: str = "auto"
    log_queries: bool = False
    # Search analytics and the write API (kb/analytics.py, kb/auth.py; README "Staff").
    data_dir: Path = None  # None: data/ beside the index directory
    analytics: bool = True  # KB_ANALYTICS=off: none at all
    analytics_min_count: int = 5
    analytics_retention_days: int = 90
    api_keys: str = field(default="", repr=False)  # "scope:secret ..."; never printed
    api_keys_file: Path = None
    # The sentence-embedding model (kb.semantic): an .onnx file or a directory with
    # one and its tokenizer.json; empty: the model the semantic extra installs.
    embedding_model: str = ""

    @classmethod
    def from_env(cls, env=None, **overrides):
        """Build a Config from ``KB_*`` variables, then explicit overrides.

        >>> Config.from_env({"KB_PORT": "9000"}).port
        9000
        """
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            raw = env.get("KB_" + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_overrides(self, **overrides):
        """A copy with every non-None override applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _coerce(f, raw):
    kind = type(f.default) if f.default is not None else f.type if isinstance(f.type, type) else str
    if kind is bool:
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"KB_{f.name.upper()}={raw!r} is not a valid bool (use 1 or 0)")
    try:
        if kind is tuple:
            return _split_list(raw)
        if issubclass(kind, Path):
            return Path(raw)
        return kind(raw)
    except ValueError:
        raise ValueError(f"KB_{f.name.upper()}={raw!r} is not a valid {kind.__name__}") from None
