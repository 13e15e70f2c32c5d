"""Index generations on disk: build beside, switch atomically, remove when unused.

Layout of the index directory::

    index/
      CURRENT            name of the generation being served (replaced atomically)
      .write.lock        flock held by the one `kb index` running
      gen-<time>-<pid>/  one complete index + kb.json (its build record)
        .readers.lock    shared flock held by each process that serves it

A generation is never changed once published.  A reader takes a shared lock on
the generation it serves; :func:`remove_unused` deletes a generation only when it
can take that lock exclusively, i.e. when no process is reading it.
This module knows nothing of Whoosh.
"""

import fcntl
import json
import os
import secrets
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import IndexBusy

CURRENT = "CURRENT"
WRITE_LOCK = ".write.lock"
READERS_LOCK = ".readers.lock"
RECORD = "kb.json"
VOCABULARY = "vocabulary.json"  # {folded word: documents holding it}
SYNONYMS = "synonyms.json"  # the synonym groups the generation was built with
CURATION = "curation.json"  # the curation rules the generation was built with
PREFIX = "gen-"


def current_name(index_dir):
    """The current generation's directory name, or None if none is published."""
    try:
        name = (Path(index_dir) / CURRENT).read_text().strip()
    except FileNotFoundError:
        return None
    return name or None


def current_path(index_dir):
    """The current generation's path, or None."""
    name = current_name(index_dir)
    return Path(index_dir) / name if name else None


def read_json(path, default):
    """A JSON file of a generation, or ``default`` if it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return default


def write_json(path, value):
    """Write a JSON file of a generation atomically."""
    _atomic_write(Path(path), json.dumps(value, separators=(",", ":"), sort_keys=True))


def read_record(gen_path):
    """The build record (``kb.json``) of a generation, or ``{}``."""
    return read_json(Path(gen_path) / RECORD, {})


def new_generation(index_dir):
    """Create and return an empty directory for a new generation."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    for _ in range(1000):
        # Never reused: a client may key a cache on the generation's name.
        path = index_dir / f"{PREFIX}{stamp}-{secrets.token_hex(3)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RuntimeError("cannot create a new generation directory")


def write_record(gen_path, record):
    """Write a generation's build record."""
    write_json(Path(gen_path) / RECORD, record)


def publish(index_dir, gen_path):
    """Make ``gen_path`` the current generation in one atomic rename.

    Every file of the generation, its directory and the index directory are
    fsynced first (:func:`sync_generation`), so after an OS crash or power
    loss ``CURRENT`` never names a generation whose files did not all reach
    the disk.
    """
    sync_generation(gen_path)
    _atomic_write(Path(index_dir) / CURRENT, Path(gen_path).name + "\n")


def sync_generation(gen_path):
    """fsync every file under ``gen_path``, each directory, then its parent.

    :returns: the number of files synced.
    """
    gen_path = Path(gen_path)
    count = 0
    for root, dirs, files in os.walk(gen_path):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            count += 1
        _fsync_dir(root)
    _fsync_dir(gen_path.parent)  # the generation's own entry in the index directory
    return count


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path, text):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk must leave no .CURRENT.<pid>.tmp behind
        raise
    _fsync_dir(path.parent)


@contextmanager
def write_lock(index_dir):
    """Hold the index directory's write lock; :class:`IndexBusy` if taken.

    The lock is an ``flock``: it is released when the process ends, however it
    ends, so a crashed build never leaves the index locked.
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / WRITE_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise IndexBusy(
                f"another `kb index` (pid {holder}) is building {index_dir}; wait for it to finish, then run this again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


class ReaderLease:
    """A shared lock on a generation, held while a process serves from it."""

    def __init__(self, gen_path):
        self.path = Path(gen_path)
        self._fd = os.open(self.path / READERS_LOCK, os.O_RDONLY | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    def release(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def remove_unused(index_dir, keep=()):
    """Delete every generation that is not current, not in ``keep`` and not read.

    :returns: the names of the removed generations.
    """
    index_dir = Path(index_dir)
    keep = {Path(k).name for k in keep} | {current_name(index_dir)}
    removed = []
    for path in sorted(index_dir.glob(PREFIX + "*")):
        if path.name in keep or not path.is_dir():
            continue
        try:
            fd = os.open(path / READERS_LOCK, os.O_RDONLY | os.O_CREAT, 0o644)
        except FileNotFoundError:
            continue  # removed meanwhile
        except OSError:
            # No lock file and none can be made (a full disk): nobody can be
            # reading it, since a reader takes the lock first.
            if not (path / READERS_LOCK).exists():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        finally:
            os.close(fd)
    return removed
