"""
Who digests the queue, and when (``SENTRY_DIGEST``).

``"embedded"`` (the default)
    A daemon thread in each process that queues events (web workers), woken
    by every enqueue. No other process or service to run. On SQLite the
    drainers of all processes take turns through a lock file next to the
    database, so exactly one digests at a time; on PostgreSQL they digest in
    parallel, each claiming its own rows (``SKIP LOCKED``).
``"worker"``
    Nothing in the web processes: ``manage.py sentry_worker`` digests.
``"celery"``
    Each enqueue sends (at most every ``SENTRY_DIGEST_INTERVAL`` seconds per
    process) the ``sentry.digest`` Celery task, which any number of workers
    on any number of machines run (see :mod:`sentry.tasks`).
``"inline"``
    The request that queued the events digests them before it answers:
    slowest, but nothing runs in the background (tests, tiny sites).
"""

import logging
import os
import threading
import time

from django.db import connections

from .conf import settings
from .db import get_write_alias
from .utils.process import PerProcess

logger = logging.getLogger("sentry.errors")

MODES = ("embedded", "worker", "celery", "inline")


# --- one drainer at a time on SQLite ------------------------------------------


class DrainLock:
    """
    The right to digest alone: exclusive on SQLite, shared elsewhere.

    SQLite lets one connection write at a time; two digests would only queue
    behind each other's write lock. An ``flock`` on ``<database>.digest.lock``
    lets one through; the kernel drops it when its process dies, however it
    dies, so a killed drainer never blocks the others. Databases with row
    locks need no such lock: concurrent digests claim different rows.

    ``alias`` is the queue's database, ``store_alias`` (default: the same)
    the one events are stored to: the lock file is next to the queue's
    database when it is SQLite, else next to the main one when that is.
    """

    def __init__(self, alias, store_alias=None):
        self.alias = alias
        self.store_alias = store_alias or alias
        self.path = self._path(alias)
        if self.path is None and self.store_alias != alias:
            self.path = self._path(self.store_alias)
        self.exclusive = self.path is not None
        self._file = None
        self._thread_lock = threading.Lock()

    @staticmethod
    def _path(alias):
        connection = connections[alias]
        if connection.vendor != "sqlite":
            return None
        name = str(connection.settings_dict["NAME"])
        if not name or ":memory:" in name or name.startswith("file:"):
            # No file to lock next to: one drainer per process, at least.
            return ""
        return name + ".digest.lock"

    def acquire(self, blocking=False, timeout=None):
        """Take the lock; return whether it was taken."""
        if not self._thread_lock.acquire(blocking, -1 if timeout is None else timeout):
            return False
        if not self.path:
            return True
        import fcntl

        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            handle = open(self.path, "a+b")  # noqa: SIM115 - held until release
        except OSError:
            self._thread_lock.release()
            raise
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._file = handle
                return True
            except BlockingIOError:
                if not blocking or (
                    deadline is not None and time.monotonic() > deadline
                ):
                    handle.close()
                    self._thread_lock.release()
                    return False
                time.sleep(0.05)

    def release(self):
        if self._file is not None:
            import fcntl

            try:
                fcntl.flock(self._file, fcntl.LOCK_UN)
            finally:
                self._file.close()
                self._file = None
        self._thread_lock.release()


_locks = {}
_locks_guard = threading.Lock()


def get_lock(alias, store_alias=None):
    """Return this process's :class:`DrainLock` for a queue's database alias."""
    key = (os.getpid(), alias, store_alias or alias)
    with _locks_guard:
        lock = _locks.get(key)
        if lock is None:
            lock = _locks[key] = DrainLock(alias, store_alias)
        return lock


def drain_available(
    alias=None, blocking=False, timeout=None, deadline=None, batch_size=None
):
    """
    Digest what is queued if no other drainer is at it; return the report.

    ``None`` when another drainer holds the lock (SQLite).
    """
    from .digest import drain, get_store_alias

    alias = alias or get_write_alias_for_queue()
    lock = get_lock(alias, get_store_alias(alias))
    if not lock.acquire(blocking=blocking, timeout=timeout):
        return None
    try:
        # Alone on SQLite: a leased row can only be a dead drainer's.
        return drain(
            using=alias, steal=lock.exclusive, deadline=deadline, batch_size=batch_size
        )
    finally:
        lock.release()


def get_write_alias_for_queue():
    from .queue import QueuedEvent

    return get_write_alias(QueuedEvent)


# --- the embedded drainer -------------------------------------------------------


class Drainer:
    """A daemon thread that digests the queue while events keep coming."""

    def __init__(self):
        self.pid = os.getpid()
        self.wakeup = threading.Event()
        self.last_kick = 0.0
        self.thread = threading.Thread(
            target=self.run, name="sentry-digest", daemon=True
        )
        self.thread.start()

    def kick(self):
        self.last_kick = time.monotonic()
        self.wakeup.set()

    def run(self):
        while True:
            # Awake while events come in, to pick up what other processes
            # queued while this one's drainer held the lock; asleep otherwise.
            active = time.monotonic() - self.last_kick < settings.DIGEST_IDLE_TIMEOUT
            self.wakeup.wait(settings.DIGEST_INTERVAL if active else None)
            self.wakeup.clear()
            try:
                drain_available()
            except Exception:
                logger.exception("The embedded digest failed; retrying")
            finally:
                # Never keep a connection from a thread no request closes.
                connections.close_all()
            # Let events gather: one drain per interval digests them in full
            # batches, where draining at every event would write (and take
            # the write lock) once per event.
            time.sleep(settings.DIGEST_INTERVAL)


_drainer = PerProcess(Drainer)


def get_drainer():
    """Return this process's embedded drainer, started on first use."""
    return _drainer.get()


# --- after an enqueue -------------------------------------------------------------


class _Throttle:
    """Call a function at most once per interval, and once after the last call."""

    def __init__(self, func):
        self.func = func
        self.lock = threading.Lock()
        self.last = 0.0
        self.timer = None

    def __call__(self):
        with self.lock:
            now = time.monotonic()
            wait = self.last + settings.DIGEST_INTERVAL - now
            if wait <= 0:
                self.last = now
                self._call()
            elif self.timer is None:
                # Trailing call: what was queued since the last one is covered.
                self.timer = threading.Timer(wait, self._trailing)
                self.timer.daemon = True
                self.timer.start()

    def _trailing(self):
        with self.lock:
            self.timer = None
            self.last = time.monotonic()
        self._call()

    def _call(self):
        try:
            self.func()
        except Exception:
            logger.exception("Unable to request a digest")


def _send_celery_task():
    from .tasks import digest

    digest.apply_async(**celery_options())


def celery_options():
    """Return the ``apply_async`` options of the digest task."""
    options = {}
    if settings.DIGEST_CELERY_QUEUE:
        options["queue"] = settings.DIGEST_CELERY_QUEUE
    return options


_celery_kick = _Throttle(_send_celery_task)


def after_enqueue(using):
    """Get the queue digested, as ``SENTRY_DIGEST`` says; never raise."""
    mode = settings.DIGEST
    try:
        if mode == "embedded":
            get_drainer().kick()
        elif mode == "celery":
            _celery_kick()
        elif mode == "inline":
            from .digest import drain

            drain(using=using)
    except Exception:
        logger.exception("Unable to digest queued events (SENTRY_DIGEST=%r)", mode)
