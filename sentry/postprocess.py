"""
Run the plugins' :meth:`~sentry.plugins.Plugin.post_process` hook.

Called by the digest (and by the in-process client's synchronous path)
once a batch of events is committed. What the hooks get is read here, in
the writer's thread, with a query or two per batch and only for the events
some active hook wants; the hooks themselves run on a background thread per
plugin, so a slow or failing receiver never holds recording, nor another
plugin's deliveries. A hook that raises is retried a bounded number of
times, then logged to ``sentry.errors``.
"""

import atexit
import heapq
import itertools
import logging
import os
import queue
import threading
import time

from django.db import connections

from .db import get_write_alias, outside_host_transaction
from .models import GroupedMessage, Message
from .occurrences import event_columns
from .plugins.base import safely
from .plugins.registry import get_plugins

logger = logging.getLogger("sentry.errors")

#: Deliveries waiting per plugin; past this, new ones are dropped (logged).
QUEUE_SIZE = 1000

_workers = {}
_workers_lock = threading.Lock()


def processors():
    """
    Return the plugins whose ``post_process`` runs, in ``INSTALLED_APPS`` order.

    The mail to :setting:`SENTRY_ADMINS` is always among them: when
    ``sentry.plugins.sentry_mail`` is not installed, its plugin runs anyway,
    as mail did before plugins had this hook.
    """
    from .plugins.sentry_mail.plugin import MailPlugin

    found = [plugin for plugin in get_plugins() if plugin.has_post_process]
    if not any(isinstance(plugin, MailPlugin) for plugin in found):
        found.append(_builtin_mail(MailPlugin))
    return found


_builtin = {}


def _builtin_mail(plugin_class):
    # One instance for the process: its deliveries keep one thread.
    if "mail" not in _builtin:
        _builtin["mail"] = plugin_class()
    return _builtin["mail"]


def schedule(events, results, using=None):
    """
    Hand committed events to the post-processing plugins.

    ``events`` are prepared event dicts, ``results`` their
    :class:`~sentry.storage.StoreResult`. Duplicates and events whose
    writing was deferred (no group known yet) are not processed. Never
    raises: a failure here is logged and recording goes on.
    """
    try:
        _schedule(events, results, using)
    except Exception:
        logger.exception("Unable to hand stored events to the plugins")


def _schedule(events, results, using):
    plugins = [
        plugin
        for plugin in processors()
        if safely(plugin, "wants_post_process", default=False)
    ]
    if not plugins:
        return
    wanted = []
    for event, result in zip(events, results, strict=True):
        if result.duplicate or result.group_id is None:
            continue
        if getattr(result, "muted", False):
            # A muted group tells nobody, not even the plugins that want
            # every event: that is what muting it asked for.
            continue
        unmuted = getattr(result, "unmuted", False)
        change = result.created or result.regressed or unmuted
        takers = [p for p in plugins if change or not p.post_process_only_changes]
        if takers:
            wanted.append((event, result, takers, unmuted))
    if not wanted:
        return
    # Read where the events were written: not a replica that may lag, and
    # not through a host transaction that may be broken.
    groups, stored = outside_host_transaction(
        lambda alias: _load(wanted, alias), using or get_write_alias(Message)
    )
    for event, result, takers, unmuted in wanted:
        group = groups.get(result.group_id)
        if group is None:
            # Deleted since it was written: nothing left to tell about.
            continue
        occurrence = stored.get(event["message_id"]) or _unsaved(event, group)
        for plugin in takers:
            _submit(
                plugin,
                (group, occurrence, result.created, result.regressed, unmuted),
            )


def _load(wanted, using):
    """Return ``({group_id: group}, {message_id: occurrence})``: two queries."""
    ids = {event["message_id"] for event, result, *_ in wanted if result.stored}
    stored = {}
    if ids:
        rows = Message.objects.using(using).select_related("group__project")
        for row in rows.filter(message_id__in=ids):
            stored[row.message_id] = row
    groups = {row.group_id: row.group for row in stored.values()}
    missing = {result.group_id for _, result, *_ in wanted} - groups.keys()
    if missing:
        rows = GroupedMessage.objects.using(using).select_related("project")
        groups.update((group.pk, group) for group in rows.filter(pk__in=missing))
    return groups, stored


def _unsaved(event, group):
    """Return an occurrence the flood guard did not keep, as an unsaved row."""
    return Message(
        group=group,
        message_id=event["message_id"],
        logger=event["logger"],
        class_name=event["class_name"],
        level=event["level"],
        message=event["message"],
        traceback=event.get("traceback"),
        view=event["view"],
        checksum=event["checksum"],
        data=event.get("data"),
        datetime=event["datetime"],
        url=event["url"],
        server_name=event["server_name"],
        site=event["site"],
        **event_columns(event.get("data")),
    )


def _submit(plugin, job):
    worker = _worker(plugin)
    try:
        worker.jobs.put_nowait((plugin, job))
    except queue.Full:
        logger.error(
            "Too many events waiting for plugin %r: %s not processed",
            plugin,
            job[1].message_id,
        )


def call_later(plugin, delay, func):
    """
    Call ``func()`` in ``plugin``'s thread ``delay`` seconds from now.

    For work a hook leaves for later (a summary at the end of a minute).
    Kept in memory: lost if the process exits first. Failures are logged.
    """
    _worker(plugin).call_later(delay, func)


def _worker(plugin):
    # By class, not instance: the registry makes new instances when
    # INSTALLED_APPS changes, and each would leave a thread behind.
    key = (type(plugin).__module__, type(plugin).__qualname__, plugin.slug)
    with _workers_lock:
        worker = _workers.get(key)
        if worker is None or not worker.is_alive():
            worker = _Worker(plugin.slug)
            _workers[key] = worker
            worker.start()
        return worker


#: Put in a worker's queue to wake it up (a timer was added from elsewhere).
_WAKE = object()
_timer_order = itertools.count()


class _Worker(threading.Thread):
    """One plugin's deliveries, in order, one at a time; and its timers."""

    def __init__(self, slug):
        super().__init__(name=f"sentry-post-process-{slug}", daemon=True)
        self.jobs = queue.Queue(maxsize=QUEUE_SIZE)
        self.timers = []
        self.timers_lock = threading.Lock()
        # Set while a timer's function runs, which flush() waits for: the
        # timer has left the heap but its work (a summary being sent) is
        # not done.
        self.timer_running = False
        self.timer_done = threading.Condition(self.timers_lock)

    def call_later(self, delay, func):
        with self.timers_lock:
            due = time.monotonic() + max(0.0, delay)
            heapq.heappush(self.timers, (due, next(_timer_order), func))
        if threading.current_thread() is not self:
            # Waiting for a job with no timeout: wake up to set one. A full
            # queue wakes it up soon anyway.
            try:
                self.jobs.put_nowait(_WAKE)
            except queue.Full:
                pass

    def run(self):
        while True:
            try:
                item = self.jobs.get(timeout=self._until_next_timer())
            except queue.Empty:
                item = None
            try:
                if item is not None and item is not _WAKE:
                    plugin, job = item
                    _deliver(plugin, *job)
            except Exception:
                # The plugin's own settings (attempts, delay) failed: the
                # thread must live on, or the events behind this one are lost.
                logger.exception("Plugin %r: post_process() not run", plugin)
            finally:
                self._run_timers()
                if item is not None:
                    self.jobs.task_done()
                if self.jobs.empty():
                    _close_connections()

    def _until_next_timer(self):
        with self.timers_lock:
            if not self.timers:
                return None
            return max(0.0, self.timers[0][0] - time.monotonic())

    def _run_timers(self):
        while True:
            with self.timers_lock:
                if not self.timers or self.timers[0][0] > time.monotonic():
                    return
                _, _, func = heapq.heappop(self.timers)
                self.timer_running = True
            try:
                func()
            except Exception:
                logger.exception("A post-processing timer failed: %r", func)
            finally:
                with self.timers_lock:
                    self.timer_running = False
                    self.timer_done.notify_all()

    def wait_for_timer(self, deadline):
        """Wait for the timer running now, if any; return whether it is done."""
        if threading.current_thread() is self:
            return True  # a timer that flushes: it cannot wait for itself
        with self.timers_lock:
            while self.timer_running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.timer_done.wait(remaining)
        return True


def _deliver(plugin, group, occurrence, is_new, is_regression, is_unmuted=False):
    attempts = max(1, plugin.post_process_attempts)
    for attempt in range(1, attempts + 1):
        try:
            # is_unmuted only when true: hooks written before it came see
            # the arguments they always had.
            extra = {"is_unmuted": True} if is_unmuted else {}
            plugin.post_process(
                group, occurrence, is_new=is_new, is_regression=is_regression, **extra
            )
            return
        except Exception:
            if attempt == attempts:
                logger.exception(
                    "Plugin %r failed in post_process() for %s, %d times: given up",
                    plugin,
                    occurrence.message_id,
                    attempts,
                )
                return
            time.sleep(plugin.post_process_retry_delay * 2 ** (attempt - 1))


def _close_connections():
    # A thread that waits for the next event must not hold a database
    # connection meanwhile (PostgreSQL counts them).
    for connection in connections.all(initialized_only=True):
        connection.close()


def flush(timeout=10):
    """
    Wait until every queued delivery is done; return whether they all are.

    A timer that is running (a summary being sent) is waited for as well;
    timers not yet due are not.
    """
    deadline = time.monotonic() + timeout
    with _workers_lock:
        workers = list(_workers.values())
    for worker in workers:
        jobs = worker.jobs
        with jobs.all_tasks_done:
            while jobs.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                jobs.all_tasks_done.wait(remaining)
        if not worker.wait_for_timer(deadline):
            return False
    return True


def _forget_workers():
    # A forked child (a gunicorn worker of a preloading master) has none of
    # its parent's threads: their queues would never drain, and a lock held
    # at the fork would never be released. It starts its own.
    global _workers, _workers_lock
    _workers = {}
    _workers_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_workers)
atexit.register(flush, 2)
