"""Serving under hostile traffic: waitress configured on purpose, and supervised workers.

``kb serve`` binds one listening socket, then a :class:`Supervisor` forks the
workers (one per CPU by default) that all accept on it, each running
:func:`run_worker`:

- **Slow clients cannot starve others.**  waitress parses requests in its
  event loop and hands only complete ones to its threads, so a slow client
  costs a connection slot, not a thread.  :func:`waitress_settings` makes slots
  plentiful (``KB_CONNECTION_LIMIT`` per worker, ``poll()`` instead of
  ``select()`` so more than 1,024 sockets work), closes idle connections after
  ``KB_IDLE_TIMEOUT`` seconds and, every second, closes a connection whose
  request is still incomplete ``KB_REQUEST_TIMEOUT`` seconds after its first
  byte (waitress's own timeout restarts with every byte, so a client sending one
  header line every 2 s would hold its slot for ever).
- **``Expect: 100-continue`` on a request without a body** is ignored: waitress
  3.0 would send ``100 Continue`` and then wait for a body that never comes,
  holding the connection (and never answering).
- **A dead worker is replaced at once** (the supervisor waits for ``SIGCHLD``)
  and logged (``kb.serve`` logger); ``SIGTERM``/``SIGINT`` stop accepting, let requests in flight
  finish (at most ``KB_DRAIN_SECONDS``) and exit 0; ``SIGHUP`` starts fresh
  workers, then drains the old ones: a graceful restart.
- A new worker opens the index generation before it accepts a connection, so
  the first visitors it takes never wait for the index to load.
"""

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from . import analytics
from .writes import MAX_ARTICLE_BYTES

#: Set in a worker once it has begun draining: ``/health`` then answers 503.
DRAINING = threading.Event()

#: Where prometheus-client's multiprocess mode keeps each process's metrics.
ENV = "PROMETHEUS_MULTIPROC_DIR"

#: A worker that dies younger than this is restarted after this delay (a crash loop
#: must not spin); an older one is replaced at once.
RESPAWN_DELAY = 1.0


def waitress_settings(config):
    """The waitress adjustments of a kb worker (see the module docstring for why).

    >>> from kb.config import Config
    >>> waitress_settings(Config())["connection_limit"]
    1000
    """
    return {
        "threads": config.threads,
        "ident": "kb",
        "connection_limit": config.connection_limit,
        "channel_timeout": config.idle_timeout,  # idle keep-alive connections
        "cleanup_interval": 1,  # how often timeouts are checked (seconds)
        "asyncore_use_poll": True,  # select() fails beyond 1,024 file descriptors
        "asyncore_loop_timeout": 1,
        "backlog": 2048,  # ours is set by listen(); for completeness
        "max_request_header_size": 64 * 1024,  # a 10,000-character q fits many times
        "max_request_body_size": MAX_ARTICLE_BYTES + 64 * 1024,  # PUT /articles/{slug}; other bodies are tiny
        "expose_tracebacks": False,
        "log_socket_errors": False,  # resets by clients are not kb's errors
    }


class _Parser(HTTPRequestParser):
    """waitress's parser, remembering when the request began, ignoring a pointless Expect."""

    def __init__(self, adj):
        super().__init__(adj)
        self.kb_started = time.time()

    def parse_header(self, header_plus):
        super().parse_header(header_plus)
        if self.expect_continue and not self.chunked and not self.content_length:
            self.expect_continue = False  # nothing to continue with: answer now


class _Channel(HTTPChannel):
    parser_class = _Parser


class Server(TcpWSGIServer):
    """waitress's TCP server on an already listening socket, with request deadlines and draining."""

    channel_class = _Channel

    def __init__(self, app, sock, config):
        adj = Adjustments(sockets=[sock], **waitress_settings(config))
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(adj.threads)
        sockinfo = (sock.family, sock.type, sock.proto, sock.getsockname())
        super().__init__(app, {}, True, sock, dispatcher=dispatcher, adj=adj, bind_socket=False, sockinfo=sockinfo)
        self.request_timeout = config.request_timeout
        self.drain_seconds = config.drain_seconds
        self.draining_since = None

    def maintenance(self, now):
        """Close idle connections (waitress) and requests still incomplete past their deadline."""
        super().maintenance(now)
        cutoff = now - self.request_timeout
        for channel in list(self.active_channels.values()):
            request = channel.request
            if request is not None and not channel.requests and getattr(request, "kb_started", now) < cutoff:
                channel.will_close = True

    def drain(self):
        """Stop accepting; :meth:`serve` returns once requests in flight are answered."""
        if self.draining_since is None:
            self.draining_since = time.monotonic()
            DRAINING.set()
            self.pull_trigger()  # wake the event loop now

    def _stop_accepting(self):
        self.del_channel()
        self.socket.close()

    def _close_idle(self):
        """Close every connection with nothing in flight; the number still busy."""
        busy = 0
        for channel in list(self.active_channels.values()):
            if channel.requests or channel.total_outbufs_len:
                busy += 1
            else:
                channel.will_close = True
        return busy

    def serve(self):
        """Run the event loop until :meth:`drain` was called and the drain is over."""
        accepting = True
        try:
            while True:
                timeout = self.adj.asyncore_loop_timeout if accepting else 0.05
                wasyncore.loop(timeout=timeout, map=self._map, use_poll=True, count=1)
                if self.draining_since is None:
                    continue
                if accepting:
                    self._stop_accepting()
                    accepting = False
                busy = self._close_idle()
                if (not busy and len(self.active_channels) == 0) or (
                    time.monotonic() - self.draining_since > self.drain_seconds
                ):
                    break
        finally:
            self.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
            wasyncore.close_all(self._map)


def run_worker(sock, config):
    """Serve kb on ``sock`` in this process until SIGTERM or SIGINT, then drain; returns 0."""
    from .errors import IndexMissing
    from .search import Engine
    from .semantic import loader_for
    from .web import create_app

    engine = Engine(
        config.index_dir,
        reload_seconds=config.reload_seconds,
        cache_mb=config.cache_mb,
        semantic=loader_for(config),
    )
    try:
        engine.generation_name()  # open the generation before taking any visitor
        engine.search_mode()  # and the embedding model, if any: /health and the first question stay cheap
    except IndexMissing:
        pass  # requests get 503 index_missing until one is built
    server = Server(create_app(config, engine=engine), sock, config)
    # "Task queue depth is N" on every busy moment would bury the log; the queue shows in /metrics latency.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: server.drain())
    server.serve()
    engine.close()
    analytics.flush_all()  # the last second of search counts (os._exit skips atexit)
    return 0


_log = logging.getLogger("kb.serve")


def log(message, level=logging.INFO):
    """A supervisor line on the ``kb.serve`` logger (JSON or text, as kb.logs configures it)."""
    _log.log(level, message)


class Supervisor:
    """Forks ``workers`` processes running ``target(sock, config)`` and keeps them running.

    Signals to the supervisor: SIGTERM/SIGINT stop (each worker drains; exit
    status 0), SIGHUP restarts the workers gracefully (new ones first).  A worker
    that dies is replaced at once, logged on stderr.

    :param on_exit: called with the pid of every worker that has exited
        (``/metrics`` forgets its live gauges).
    """

    SIGNALS = (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

    def __init__(self, sock, config, workers, target=run_worker, on_exit=None):
        self.sock, self.config, self.n, self.target = sock, config, workers, target
        self.on_exit = on_exit or (lambda pid: None)
        self.workers = {}  # pid -> time it started (monotonic)
        self.retiring = set()  # pids told to drain (SIGHUP, stop)
        self.pending = []  # times at which to start a replacement
        self.restarts = 0
        self.on_restart = lambda: None
        self.stopping = False

    def _spawn(self):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for signum in self.SIGNALS:  # the worker's own handlers come with run_worker
                    signal.signal(signum, signal.SIG_IGN if signum == signal.SIGHUP else signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, self.SIGNALS)
                code = self.target(self.sock, self.config) or 0
            except BaseException:
                _log.exception("worker %d failed", os.getpid())
            finally:
                sys.stderr.flush()
                os._exit(code)
        self.workers[pid] = time.monotonic()
        return pid

    def run(self):
        """Start the workers and supervise them until stopped; returns the exit status."""
        previous = {s: signal.signal(s, lambda *_: None) for s in self.SIGNALS}  # SIGCHLD must be delivered
        signal.pthread_sigmask(signal.SIG_BLOCK, self.SIGNALS)
        try:
            for _ in range(self.n):
                self._spawn()
            log(f"started {self.n} worker{'s' if self.n != 1 else ''}: {' '.join(map(str, self.workers))}")
            while True:
                timeout = max(0.01, min(self.pending) - time.monotonic()) if self.pending else 1.0
                info = signal.sigtimedwait(self.SIGNALS, timeout)
                self._reap()
                self._respawn_due()
                if info is None:
                    continue
                if info.si_signo in (signal.SIGTERM, signal.SIGINT):
                    return self.stop()
                if info.si_signo == signal.SIGHUP:
                    self.restart()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, self.SIGNALS)
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _reap(self):
        while self.workers or self.retiring:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            started = self.workers.pop(pid, None)
            self.on_exit(pid)
            if pid in self.retiring:
                self.retiring.discard(pid)
                continue
            if started is None or self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
            young = time.monotonic() - started < RESPAWN_DELAY
            log(f"worker {pid} {how}; {'restarting it in 1 s' if young else 'replacing it'}", logging.WARNING)
            self.pending.append(time.monotonic() + (RESPAWN_DELAY if young else 0))
            self._respawn_due()

    def _respawn_due(self):
        now = time.monotonic()
        due = [t for t in self.pending if t <= now]
        self.pending = [t for t in self.pending if t > now]
        for _ in due:
            if not self.stopping:
                self.restarts += 1
                self.on_restart()  # counted first: a scrape that sees the new worker sees the restart
                pid = self._spawn()
                log(f"worker {pid} started")

    def restart(self):
        """Graceful restart: start fresh workers, then let the old ones drain."""
        old = list(self.workers)
        for _ in old:
            self._spawn()
        for pid in old:
            self.retiring.add(pid)
            self.workers.pop(pid, None)
            self._signal(pid, signal.SIGTERM)
        log(f"restarting: workers {' '.join(map(str, self.workers))} replace {' '.join(map(str, old))}")

    def stop(self):
        """Drain every worker and wait for them (SIGKILL after the drain time); returns 0."""
        self.stopping = True
        self.pending = []
        everyone = set(self.workers) | self.retiring
        self.retiring |= everyone
        self.workers.clear()
        for pid in everyone:
            self._signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.config.drain_seconds + 5
        while self.retiring and time.monotonic() < deadline:
            signal.sigtimedwait(self.SIGNALS, 0.2)
            self._reap()
        for pid in list(self.retiring):
            log(f"worker {pid} still busy after {self.config.drain_seconds:g} s; killing it", logging.WARNING)
            self._signal(pid, signal.SIGKILL)
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            self.on_exit(pid)
        log("stopped")
        return 0

    @staticmethod
    def _signal(pid, signum):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def serve(sock, config, workers):
    """``kb serve`` after the socket is bound: supervise ``workers`` workers until stopped."""
    _raise_file_limit(config.connection_limit + 64)
    with metrics_dir():
        # Only now: prometheus_client reads PROMETHEUS_MULTIPROC_DIR on import.  kb.web (and
        # the engine) are imported before the fork, so a replacement worker starts sooner.
        from . import metrics, web  # noqa: F401

        supervisor = Supervisor(sock, config, workers, on_exit=metrics.worker_exited)
        supervisor.on_restart = metrics.WORKER_RESTARTS.inc
        return supervisor.run()


@contextmanager
def metrics_dir():
    """A fresh ``PROMETHEUS_MULTIPROC_DIR`` for the workers forked inside it; removed after.

    Entered before ``prometheus_client`` is imported, so that every process
    writes its metrics there and ``/metrics`` sums them (see :mod:`kb.metrics`).
    """
    if "prometheus_client" in sys.modules and not os.environ.get(ENV):
        log("prometheus_client was imported before kb serve set up its metrics directory", logging.WARNING)
    path = tempfile.mkdtemp(prefix="kb-metrics-")
    previous = os.environ.get(ENV)
    os.environ[ENV] = path
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        shutil.rmtree(path, ignore_errors=True)


def _raise_file_limit(wanted):
    """Let a worker hold ``wanted`` sockets, as far as the hard limit allows."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
