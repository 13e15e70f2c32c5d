"""Which generation is served: acquire/release for requests, refresh in the background.

Like Lucene's ``SearcherManager``: a request :meth:`~GenerationManager.acquire`\\ s
the current :class:`~kb.search.snapshot.Snapshot` and releases it when done; a
newly published generation is opened and prepared in a background thread while
requests keep being answered from the old one, then swapped in.  The old one is
closed when its last request releases it.
"""

import logging
import threading
import time
import weakref
from contextlib import contextmanager

from .. import generations
from ..errors import IndexMissing

log = logging.getLogger("kb.search")


class GenerationManager:
    """Serves the current generation of ``index_dir``; checks for a newer one every ``reload_seconds``.

    :param open_snapshot: ``open_snapshot(path)`` -> a Snapshot.
    :param on_swap: called with the new snapshot after each swap (the engine clears caches).
    """

    def __init__(self, index_dir, open_snapshot, reload_seconds=1.0, on_swap=None):
        """:param reload_seconds: when above 0, a daemon thread looks for a new generation
        that often without waiting for a request, so the first request after a reindex is
        already answered from it (:meth:`close` stops it); requests look too, at most once
        per ``reload_seconds`` (0: on every call).
        """
        self.index_dir = index_dir
        self.reload_seconds = reload_seconds
        self._open = open_snapshot
        self._on_swap = on_swap
        self._lock = threading.Lock()
        self._current = None
        self._checked = 0.0
        self._preparing = None
        self._failed = None  # the last generation that failed to load (logged once)
        self._stop = threading.Event()
        self._watcher = None
        if reload_seconds > 0:
            # The thread holds the manager weakly: an engine dropped without close() still goes.
            args = (weakref.ref(self), self._stop, reload_seconds)
            self._watcher = threading.Thread(target=GenerationManager._watch, args=args, name="kb-reload", daemon=True)
            self._watcher.start()

    @staticmethod
    def _watch(manager_ref, stop, seconds):
        """Look for a new generation every ``seconds`` until the manager closes or goes."""
        while not stop.wait(seconds):
            manager = manager_ref()
            if manager is None:
                return
            manager._checked = 0.0
            try:
                manager.current()  # opens the first one, or prepares a newer one
            except Exception:  # noqa: BLE001 - no index yet, or a generation removed under us: look again later
                pass
            preparing = manager._preparing
            if preparing is not None:
                preparing.join()
            del manager

    @property
    def watcher(self):
        """The reload thread (None when ``reload_seconds`` is 0)."""
        return self._watcher

    def serving(self):
        """The snapshot answering now (None before the first request), without looking for a newer one."""
        return self._current

    def current(self):
        """The current generation; a newer one is prepared in the background."""
        now = time.monotonic()
        current = self._current
        if current is not None and now - self._checked < self.reload_seconds:
            return current
        with self._lock:
            self._checked = now
            name = generations.current_name(self.index_dir)
            if self._current is None:
                if name is None:
                    raise IndexMissing(f"no index in {self.index_dir}")
                self._current = self._load(name)
            elif name is not None and name != self._current.name and self._preparing is None:
                self._preparing = threading.Thread(target=self._prepare, args=(name,), daemon=True)
                self._preparing.start()
            return self._current

    def _load(self, name):
        started = time.perf_counter()
        snapshot = self._open(self.index_dir / name)
        log.debug(
            "generation loaded",
            extra={
                "generation": name,
                "documents": snapshot.n_live,
                "ms": round((time.perf_counter() - started) * 1000),
            },
        )
        return snapshot

    def _prepare(self, name):
        try:
            fresh = self._load(name)
        except Exception:
            fresh = None  # e.g. a generation removed under us: the next check retries
            if name != self._failed:  # once per generation, not at every check
                self._failed = name
                log.exception("generation failed to load", extra={"generation": name})
        with self._lock:
            self._preparing = None
            if fresh is None:
                return
            old, self._current = self._current, fresh
            old.retired = True
            self._close_if_unused(old)
        log.info("generation swapped in", extra={"generation": fresh.name, "previous": old.name})
        if self._on_swap is not None:
            self._on_swap(fresh)

    def _close_if_unused(self, gen):
        if gen.retired and gen.active == 0:
            gen.close()

    @contextmanager
    def acquire(self):
        """The current generation, kept open until the request is done with it."""
        self.current()  # raises IndexMissing; may start preparing a newer one
        with self._lock:
            # Read under the lock the swap takes: a generation is closed only when
            # no request holds it, so it cannot close between these two lines.
            gen = self._current
            if gen is None:
                raise IndexMissing(f"no index in {self.index_dir}")
            gen.active += 1
        try:
            yield gen
        finally:
            with self._lock:
                gen.active -= 1
                self._close_if_unused(gen)

    def wait_for(self, name, timeout=10.0):
        """Block until ``name`` is being served (tests and the benchmark use it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._checked = 0.0
            if self.current().name == name:
                return True
            time.sleep(0.02)
        return False

    def close(self):
        """Stop looking for new generations and release every generation (the process is stopping)."""
        self._stop.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join()
        with self._lock:
            if self._current is not None:
                self._current.close()
                self._current = None
