"""Who digests: the embedded drainer, the worker command, the drain lock, checks."""

import os
import re
import signal
import time

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from sentry import drain
from sentry.management.commands.sentry_worker import StopRequest
from sentry.models import Message, QueuedEvent
from tests.ingest_factories import (
    event_envelope,
    make_key,
    message_event,
    post_envelope,
)
from tests.processes import server_env, start_worker, wait_for


@pytest.mark.django_db(transaction=True)
@override_settings(SENTRY_DIGEST="embedded", SENTRY_DIGEST_INTERVAL=0.05)
def test_the_embedded_drainer_digests_in_the_background(client):
    key = make_key()
    events = [message_event(message=f"background {n}") for n in range(5)]

    for event in events:
        assert post_envelope(client, event_envelope(event), key).status_code == 200

    assert wait_for(lambda: Message.objects.count() == 5)
    assert wait_for(lambda: not QueuedEvent.objects.exists())
    drainer = drain.get_drainer()
    assert drainer.thread.is_alive()
    # Asleep again for the rest of the suite: no kick, no look at the queue.
    drainer.last_kick = 0.0


@pytest.mark.django_db(transaction=True)
@override_settings(SENTRY_DIGEST="worker")
def test_the_worker_command_digests_what_is_queued(client, capsys):
    key = make_key()
    for n in range(3):
        post_envelope(client, event_envelope(message_event(message=f"m{n}")), key)

    call_command("sentry_worker", "--once")

    assert Message.objects.count() == 3
    assert not QueuedEvent.objects.exists()
    # A drain thread left by an earlier test of this process may take some
    # of the batch first; the command reports what it digested itself.
    assert re.search(r"Digested [0-3] events\.", capsys.readouterr().out)


def test_a_signal_ends_the_worker_s_wait_at_once():
    stop = StopRequest()
    previous = signal.signal(signal.SIGALRM, stop.set)
    started = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        stop.wait(10)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    assert stop.is_set()
    assert time.monotonic() - started < 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_worker_process_stops_on_sigterm_whenever_it_comes():
    # Signals at different moments of its loop, several at once as when
    # timeout(1) forwards one and a supervisor sends its own. A handler
    # that took a lock (threading.Event.set) hung about 1 stop in 25 so.
    for delay in (0.6, 0.93, 1.27):
        worker = start_worker(server_env())
        try:
            time.sleep(delay)
            for _ in range(3):
                os.killpg(worker.popen.pid, signal.SIGTERM)
            worker.popen.wait(10)
        finally:
            worker.close()


@pytest.mark.django_db(transaction=True)
def test_the_worker_command_stops_after_max_seconds():
    started = time.monotonic()

    call_command("sentry_worker", "--max-seconds", "0.3", "--interval", "0.05")

    assert time.monotonic() - started < 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the drain lock is SQLite's")
def test_on_sqlite_one_drainer_at_a_time():
    first = drain.DrainLock("default")
    second = drain.DrainLock("default")
    assert first.exclusive

    assert first.acquire()
    try:
        assert not second.acquire()
    finally:
        first.release()
    assert second.acquire()
    second.release()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite drainers take turns")
def test_on_postgresql_drainers_share_the_work():
    assert not drain.DrainLock("default").exclusive


def test_the_celery_kick_is_throttled_with_a_trailing_call():
    calls = []
    throttle = drain._Throttle(lambda: calls.append(time.monotonic()))

    with override_settings(SENTRY_DIGEST_INTERVAL=0.2):
        for _ in range(10):
            throttle()
        assert len(calls) == 1
        assert wait_for(lambda: len(calls) == 2, timeout=2)
    assert calls[1] - calls[0] >= 0.15


def check_ids(**settings):
    with override_settings(**settings):
        return {message.id for message in run_checks(databases=[])}


def test_an_unknown_digest_mode_is_an_error():
    assert "sentry.E015" in check_ids(SENTRY_DIGEST="threads")
    assert "sentry.E015" not in check_ids(SENTRY_DIGEST="worker")


def test_celery_mode_without_celery_is_an_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_celery(name, *args, **kwargs):
        if name == "celery":
            raise ImportError("No module named 'celery'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_celery)

    assert "sentry.E016" in check_ids(SENTRY_DIGEST="celery")


def test_sqlite_without_wal_and_immediate_is_warned_about(monkeypatch):
    from types import SimpleNamespace

    from sentry import checks

    def warnings_for(options):
        database = {"ENGINE": "django.db.backends.sqlite3", "OPTIONS": options}
        monkeypatch.setattr(
            checks, "django_settings", SimpleNamespace(DATABASES={"default": database})
        )
        return [message.id for message in checks._check_sqlite()]

    assert warnings_for({"timeout": 20}) == ["sentry.W004"]
    assert warnings_for({"transaction_mode": "IMMEDIATE"}) == ["sentry.W004"]
    assert (
        warnings_for(
            {
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL;",
            }
        )
        == []
    )
