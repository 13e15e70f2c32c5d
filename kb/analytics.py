"""Privacy-safe search analytics: counts per normalised query and day, in SQLite.

What is stored, and nothing else: for each UTC day and normalised query, how
many searches there were, how many found nothing, how many found only weak
matches (``confidence: low``); and for each day, query, result id and position,
how many clicks.  No IP address, user agent, cookie, session or user id is
read, stored or logged, so no row can be tied to a visitor and no two searches
can be tied to each other.

- **Where**: ``analytics.sqlite3`` in ``KB_DATA_DIR`` (default: ``data/``
  beside the index directory), created ``0600`` in a ``0700`` directory, in WAL
  mode so several ``kb serve`` worker processes and ``kb report`` share it.
- **Cheap on the request path**: :meth:`Recorder.search` adds to an in-memory
  tally under a lock (about a microsecond); one background thread per process
  writes the tallies in one transaction per second (:data:`FLUSH_SECONDS`).
  A process killed hard loses at most that last second.
- **Retention**: rows older than ``KB_ANALYTICS_RETENTION_DAYS`` (90) are
  deleted, hourly by each writer and by every report.
- **k-anonymity of reports**: :func:`report` lists a query only when it was
  searched at least ``KB_ANALYTICS_MIN_COUNT`` (5) times in the window; rarer
  queries count in the totals only.
- ``KB_ANALYTICS=off``: nothing is recorded and no file is created.

Keystroke collapsing (``m``, ``mi``, ``mis``, ``miscarriage`` count once) is the
widget's job: see :data:`LIVE_PARAM` and the README.
"""

import atexit
import datetime as dt
import logging
import os
import sqlite3
import threading
import time
import weakref
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from .text import fold

DB_NAME = "analytics.sqlite3"
#: Normalised queries are cut to this many characters.
MAX_QUERY_CHARS = 200
#: Result ids longer than this are refused by the beacon endpoint.
MAX_ID_CHARS = 300
#: Positions above this are refused (a page of kb holds at most 50 results).
MAX_POSITION = 1000
#: Seconds between two writes of the in-memory tallies.
FLUSH_SECONDS = 1.0
#: Seconds between two retention sweeps of one process.
PRUNE_SECONDS = 3600
#: ``/search?live=1``: an as-you-type request of the widget, not counted; the
#: widget reports the query once it settles (``POST /events``).
LIVE_PARAM = "live"

SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    day TEXT NOT NULL,
    query TEXT NOT NULL,
    searches INTEGER NOT NULL DEFAULT 0,
    zero_results INTEGER NOT NULL DEFAULT 0,
    low_confidence INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, query)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS clicks (
    day TEXT NOT NULL,
    query TEXT NOT NULL,
    result_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    clicks INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, query, result_id, position)
) WITHOUT ROWID;
"""


def normalise(query):
    """The form a query is counted under: folded, spaces collapsed, end punctuation dropped.

    >>> normalise("  Miscarriage?? ")
    'miscarriage'
    >>> normalise("Ménière's  DISEASE")
    "meniere's disease"
    """
    text = " ".join(fold(query or "").split()).strip(" .,;:!?\"'`()[]{}")
    return text[:MAX_QUERY_CHARS].strip()


@dataclass(frozen=True)
class Settings:
    """Analytics settings taken from :class:`~kb.config.Config`."""

    enabled: bool
    path: Path
    min_count: int = 5
    retention_days: int = 90

    @classmethod
    def from_config(cls, config):
        """``KB_ANALYTICS``, ``KB_DATA_DIR``, ``KB_ANALYTICS_MIN_COUNT``, ``KB_ANALYTICS_RETENTION_DAYS``.

        :raises ValueError: ``KB_ANALYTICS`` is neither on nor off, or a number is below 1.
        """
        switch = str(config.analytics).strip().lower()
        if switch not in ("on", "off", "1", "0", "true", "false", "yes", "no"):
            raise ValueError(f"KB_ANALYTICS={config.analytics!r} must be on or off")
        if config.analytics_min_count < 1 or config.analytics_retention_days < 1:
            raise ValueError("KB_ANALYTICS_MIN_COUNT and KB_ANALYTICS_RETENTION_DAYS must be at least 1")
        data_dir = Path(config.data_dir) if config.data_dir else Path(config.index_dir).parent / "data"
        return cls(
            enabled=switch in ("on", "1", "true", "yes"),
            path=data_dir / DB_NAME,
            min_count=config.analytics_min_count,
            retention_days=config.analytics_retention_days,
        )


def connect(path):
    """A connection to the analytics file (created, WAL, schema) for one short use."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fresh = not path.exists()
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    # Switching a new file to WAL takes an exclusive lock that SQLite does not
    # wait for: two workers creating the file at once get "database is locked".
    deadline = time.monotonic() + 10
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            break
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                conn.close()
                raise
            time.sleep(0.02)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
    if fresh:
        os.chmod(path, 0o600)
    return conn


def _day(timestamp):
    return time.strftime("%Y-%m-%d", time.gmtime(timestamp))


class Recorder:
    """Counts searches and clicks in memory and writes them to SQLite in batches.

    Thread-safe; one per app.  After a fork, the child starts its own writer
    thread on its first record (threads do not survive a fork).

    :param clock: seconds since the epoch (tests pass a fake one).
    """

    def __init__(self, path, retention_days=90, clock=time.time):
        self.path = Path(path)
        self.retention_days = retention_days
        self.clock = clock
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._searches = {}  # (day, query) -> [searches, zero_results, low_confidence]
        self._clicks = {}  # (day, query, result_id, position) -> clicks
        self._pruned_at = 0.0
        _RECORDERS.add(self)

    def search(self, query, total, confidence):
        """Count one settled search for ``query`` that found ``total`` results."""
        q = normalise(query)
        if not q:
            return
        key = (_day(self.clock()), q)
        with self._lock:
            row = self._searches.get(key)
            if row is None:
                row = self._searches[key] = [0, 0, 0]
            row[0] += 1
            if not total:
                row[1] += 1
            elif confidence == "low":
                row[2] += 1
        _ensure_writer()

    def click(self, query, result_id, position):
        """Count one click on result ``result_id`` shown at ``position`` (0: above the results)."""
        q = normalise(query)
        if not q:
            return
        key = (_day(self.clock()), q, result_id, int(position))
        with self._lock:
            self._clicks[key] = self._clicks.get(key, 0) + 1
        _ensure_writer()

    def pending(self):
        """How many tallies wait to be written."""
        with self._lock:
            return len(self._searches) + len(self._clicks)

    def flush(self):
        """Write the tallies now, in one transaction; on failure they are kept for the next try."""
        with self._write_lock:
            with self._lock:
                searches, self._searches = self._searches, {}
                clicks, self._clicks = self._clicks, {}
            if not searches and not clicks:
                return
            try:
                with closing(connect(self.path)) as conn:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.executemany(
                        "INSERT INTO searches VALUES (?, ?, ?, ?, ?) ON CONFLICT (day, query) DO UPDATE SET "
                        "searches = searches + excluded.searches, zero_results = zero_results + excluded.zero_results, "
                        "low_confidence = low_confidence + excluded.low_confidence",
                        [(day, q, *row) for (day, q), row in searches.items()],
                    )
                    conn.executemany(
                        "INSERT INTO clicks VALUES (?, ?, ?, ?, ?) ON CONFLICT (day, query, result_id, position) "
                        "DO UPDATE SET clicks = clicks + excluded.clicks",
                        [(*key, n) for key, n in clicks.items()],
                    )
                    pruned = 0
                    if self.clock() - self._pruned_at >= PRUNE_SECONDS:
                        pruned = prune(conn, self.retention_days, self.clock())
                        self._pruned_at = self.clock()
                    conn.execute("COMMIT")
                    if pruned:
                        checkpoint(conn)
            except sqlite3.Error:
                self._restore(searches, clicks)
                raise

    def _restore(self, searches, clicks):
        with self._lock:
            for key, row in searches.items():
                mine = self._searches.setdefault(key, [0, 0, 0])
                for i, n in enumerate(row):
                    mine[i] += n
            for key, n in clicks.items():
                self._clicks[key] = self._clicks.get(key, 0) + n


def prune(conn, retention_days, now=None):
    """Delete the rows older than ``retention_days`` (today counts as day 1).

    With ``secure_delete`` the deleted text is overwritten in the database
    file; a checkpoint (:func:`checkpoint`) then empties the WAL of it.
    :returns: how many rows were deleted.
    """
    cutoff = _day((time.time() if now is None else now) - (retention_days - 1) * 86400)
    deleted = conn.execute("DELETE FROM searches WHERE day < ?", (cutoff,)).rowcount
    deleted += conn.execute("DELETE FROM clicks WHERE day < ?", (cutoff,)).rowcount
    return deleted


def checkpoint(conn):
    """Copy the WAL into the database and truncate it (old page images go with it)."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# -- one writer thread per process ------------------------------------------------

_log = logging.getLogger("kb.analytics")
_RECORDERS = weakref.WeakSet()
_writer = {"pid": None}
_writer_lock = threading.Lock()


def flush_all():
    """Write every recorder's tallies (the writer thread and ``atexit`` call it)."""
    for recorder in list(_RECORDERS):
        try:
            recorder.flush()
        except (sqlite3.Error, OSError) as e:  # kept in memory; the next round retries
            _log.warning("search analytics not written yet: %s: %s", type(e).__name__, e)


def _write_forever():
    while True:
        time.sleep(FLUSH_SECONDS)
        flush_all()


def _ensure_writer():
    pid = os.getpid()
    if _writer["pid"] == pid:
        return
    with _writer_lock:
        if _writer["pid"] != pid:
            threading.Thread(target=_write_forever, name="kb-analytics", daemon=True).start()
            _writer["pid"] = pid


atexit.register(flush_all)


# -- reports -------------------------------------------------------------------


def report(path, days=30, min_count=5, limit=20, retention_days=90, today=None):
    """What staff need: totals, a daily series, and the queries searched at least ``min_count`` times.

    :param days: the window, ending today (UTC) and including it.
    :param today: a :class:`datetime.date` (tests pass one).
    :returns: a JSON-ready dict; lists hold at most ``limit`` queries each.
    """
    today = today or dt.datetime.now(dt.timezone.utc).date()
    first = today - dt.timedelta(days=days - 1)
    per_query, per_day, clicks = {}, {}, {}
    path = Path(path)
    if path.exists():
        with closing(connect(path)) as conn:
            if prune(conn, retention_days, dt.datetime.combine(today, dt.time(12), dt.timezone.utc).timestamp()):
                checkpoint(conn)
            since = first.isoformat()
            for q, n, z, low in conn.execute(
                "SELECT query, SUM(searches), SUM(zero_results), SUM(low_confidence) FROM searches "
                "WHERE day >= ? GROUP BY query",
                (since,),
            ):
                per_query[q] = (n, z, low)
            for day, n, z in conn.execute(
                "SELECT day, SUM(searches), SUM(zero_results) FROM searches WHERE day >= ? GROUP BY day", (since,)
            ):
                per_day[day] = (n, z)
            for q, n, ranked, pos_sum in conn.execute(
                "SELECT query, SUM(clicks), SUM(CASE WHEN position > 0 THEN clicks ELSE 0 END), "
                "SUM(CASE WHEN position > 0 THEN clicks * position ELSE 0 END) FROM clicks "
                "WHERE day >= ? GROUP BY query",
                (since,),
            ):
                clicks[q] = (n, ranked, pos_sum)

    def stats(n, z, low, c):
        n_clicks, ranked, pos_sum = c
        return {
            "searches": n,
            "zero_results": z,
            "low_confidence": low,
            "clicks": n_clicks,
            "click_through_rate": round(n_clicks / n, 4) if n else None,
            "mean_click_position": round(pos_sum / ranked, 2) if ranked else None,
        }

    no_clicks = (0, 0, 0)
    shown = [
        {"query": q, **stats(n, z, low, clicks.get(q, no_clicks))}
        for q, (n, z, low) in per_query.items()
        if n >= min_count
    ]
    shown.sort(key=lambda r: (-r["searches"], r["query"]))
    total_clicks = tuple(sum(c[i] for c in clicks.values()) for i in range(3))
    totals = stats(
        sum(v[0] for v in per_query.values()),
        sum(v[1] for v in per_query.values()),
        sum(v[2] for v in per_query.values()),
        total_clicks,
    )
    totals["zero_result_rate"] = round(totals["zero_results"] / totals["searches"], 4) if totals["searches"] else None
    daily = []
    for i in range(days):
        day = (first + dt.timedelta(days=i)).isoformat()
        n, z = per_day.get(day, (0, 0))
        daily.append({"day": day, "searches": n, "zero_results": z, "zero_result_rate": round(z / n, 4) if n else None})
    hidden = [n for n, _, _ in per_query.values() if n < min_count]
    return {
        "from": first.isoformat(),
        "to": today.isoformat(),
        "days": days,
        "min_count": min_count,
        "totals": totals,
        "daily": daily,
        "top_queries": shown[:limit],
        "zero_result_queries": sorted(
            (r for r in shown if r["zero_results"]), key=lambda r: (-r["zero_results"], r["query"])
        )[:limit],
        "low_confidence_queries": sorted(
            (r for r in shown if r["low_confidence"]), key=lambda r: (-r["low_confidence"], r["query"])
        )[:limit],
        "no_click_queries": [r for r in shown if not r["clicks"]][:limit],
        "below_min_count": {"queries": len(hidden), "searches": sum(hidden)},
    }


def _pct(rate):
    return "-" if rate is None else f"{rate * 100:.0f}%"


def _pos(value):
    return "-" if value is None else f"{value:.1f}"


def format_report(rep):
    """The report as text for a terminal (``kb report``)."""
    t = rep["totals"]
    lines = [
        f"Search analytics {rep['from']} to {rep['to']} ({rep['days']} days, UTC)",
        f"searches {t['searches']}, no results {t['zero_results']} ({_pct(t['zero_result_rate'])}), "
        f"weak matches only {t['low_confidence']}, clicks {t['clicks']}, "
        f"click-through {_pct(t['click_through_rate'])}, mean click position {_pos(t['mean_click_position'])}",
        f"Queries are listed only when searched at least {rep['min_count']} times; "
        f"{rep['below_min_count']['queries']} rarer queries ({rep['below_min_count']['searches']} searches) "
        "count in the totals only.",
    ]
    sections = [
        ("Top queries", "top_queries"),
        ("Queries with no results", "zero_result_queries"),
        ("Queries with weak matches only (low confidence)", "low_confidence_queries"),
        ("Queries searched but never clicked", "no_click_queries"),
    ]
    for title, key in sections:
        lines += ["", title]
        rows = rep[key]
        if not rows:
            lines.append("  (none)")
            continue
        width = min(40, max(len(r["query"]) for r in rows))
        lines.append(f"  {'query':<{width}}  searches  no results  weak  clicks  CTR   mean pos")
        for r in rows:
            lines.append(
                f"  {r['query'][:width]:<{width}}  {r['searches']:>8}  {r['zero_results']:>10}  "
                f"{r['low_confidence']:>4}  {r['clicks']:>6}  {_pct(r['click_through_rate']):>4}  "
                f"{_pos(r['mean_click_position']):>8}"
            )
    return "\n".join(lines)


def run_report(config, days=30, limit=20, as_json=False, out=None):
    """``kb report``: print the report; returns the exit status.

    :raises ValueError: bad settings, or ``days``/``limit`` out of range.
    """
    import json
    import sys

    out = out or sys.stdout
    settings = Settings.from_config(config)
    if not 1 <= days <= settings.retention_days:
        raise ValueError(f"--days must be between 1 and {settings.retention_days} (the retention)")
    if not 1 <= limit <= 100:
        raise ValueError("--limit must be between 1 and 100")
    if not settings.enabled:
        print("kb: search analytics are off (KB_ANALYTICS=off)", file=sys.stderr)
        return 1
    if not settings.path.exists():
        print(f"kb: no search analytics recorded yet in {settings.path}", file=sys.stderr)
    rep = report(
        settings.path, days=days, min_count=settings.min_count, limit=limit, retention_days=settings.retention_days
    )
    print(json.dumps(rep, indent=2) if as_json else format_report(rep), file=out)
    return 0
