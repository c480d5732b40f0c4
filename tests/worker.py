"""
A separate process that records errors: ``python -m tests.worker MODE ...``.

Used by the concurrency and fault tests; the database comes from the same
environment variables as the suite's settings (``SENTRY_TEST_DB``,
``SENTRY_TEST_DB_NAME``).
"""

import json
import logging
import os
import sys
import time


def setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()


def record_many(count, kinds, start_at):
    """Record ``count`` errors cycling over ``kinds`` distinct ones."""
    from django.test import override_settings

    from sentry.client.models import client

    # Start together, so that the writers really overlap.
    time.sleep(max(0.0, start_at - time.time()))
    ids = []
    with override_settings(SENTRY_THRASHING_LIMIT=0):
        for n in range(count):
            kind = n % kinds
            try:
                raise ValueError(f"kind {kind} occurrence {n}")
            except ValueError:
                ids.append(
                    client.create_from_exception(
                        view=f"worker.kind{kind}", server_name=f"web-{os.getpid() % 3}"
                    )
                )
    return {
        "recorded": sum(1 for i in ids if i),
        "failed": sum(1 for i in ids if not i),
    }


def record_new_groups(count, start_at):
    """
    Record ``count`` errors, each a new group, alternately in projects 1 and
    "second", with an error shared by all workers in between.
    """
    from django.test import override_settings

    from sentry.client.models import client

    time.sleep(max(0.0, start_at - time.time()))
    ids = []
    with override_settings(SENTRY_THRASHING_LIMIT=0):
        for n in range(count):
            project = 1 if n % 2 else "second"
            with override_settings(SENTRY_PROJECT=project):
                ids.append(client.create_from_text(f"new {os.getpid()} {n}"))
                ids.append(client.create_from_text(f"shared {n % 4}"))
    return {
        "recorded": sum(1 for i in ids if i),
        "failed": sum(1 for i in ids if not i),
    }


def store_batches(batches, size, project_id, start_at):
    """
    Store ``batches`` batches of ``size`` events, each batch half errors every
    worker shares (existing groups after the first batch) and half new ones,
    in project 1 and ``project_id``: the lock order is what is tested.
    """
    from django.db import OperationalError

    from sentry import pipeline
    from sentry.db import get_write_alias, run_in_transaction
    from sentry.models import Message
    from sentry.storage import store_batch

    time.sleep(max(0.0, start_at - time.time()))
    stored = failed = 0
    for batch in range(batches):
        events = [
            pipeline.prepare(
                {
                    "message": (
                        f"shared {n % 5}" if n % 2 else f"new {os.getpid()} {batch} {n}"
                    ),
                    "project": project_id if n % 3 else 1,
                }
            )
            for n in range(size)
        ]
        try:
            run_in_transaction(
                lambda using, events=events: store_batch(using, events),
                get_write_alias(Message),
            )
            stored += len(events)
        except OperationalError:
            failed += len(events)
    return {"recorded": stored, "failed": failed}


def store_users(batches, size, start_at):
    """
    Store ``batches`` batches of ``size`` events of users every worker
    shares, over two groups, and one event of a user of this worker's own
    per batch; odd workers go through the batches backwards.
    """
    from django.db import OperationalError

    from sentry import pipeline
    from sentry.db import get_write_alias, run_in_transaction
    from sentry.models import Message
    from sentry.storage import store_batch

    pid = os.getpid()
    order = range(batches) if pid % 2 else reversed(range(batches))
    time.sleep(max(0.0, start_at - time.time()))
    stored = failed = 0
    for batch in order:
        users = [
            (n % 2, {"id": str(n)}) for n in range(batch * size, (batch + 1) * size)
        ]
        users.append((batch % 2, {"ip_address": f"10.0.{pid % 250}.{batch}"}))
        events = [
            pipeline.prepare({"message": f"users {index}", "data": {"user": user}})
            for index, user in users
        ]
        try:
            run_in_transaction(
                lambda using, events=events: store_batch(using, events),
                get_write_alias(Message),
            )
            stored += len(events)
        except OperationalError:
            failed += len(events)
    return {"recorded": stored, "failed": failed, "pid": pid}


def store_muted(batches, size, with_users, start_at):
    """
    Store ``batches`` batches of ``size`` events of the one error "muted
    error" (each of a user of its own with ``with_users``); report which
    events were told to nobody (muted) and which ended the mute.
    """
    from django.db import OperationalError

    from sentry import pipeline
    from sentry.db import get_write_alias, run_in_transaction
    from sentry.models import Message
    from sentry.storage import store_batch

    pid = os.getpid()
    time.sleep(max(0.0, start_at - time.time()))
    muted, unmuted, failed = 0, [], 0
    for batch in range(batches):
        events = [
            pipeline.prepare(
                {
                    "message": "muted error",
                    "data": (
                        {"user": {"id": f"{pid}-{batch}-{n}"}} if with_users else {}
                    ),
                }
            )
            for n in range(size)
        ]
        try:
            results = run_in_transaction(
                lambda using, events=events: store_batch(using, events),
                get_write_alias(Message),
            )
        except OperationalError:
            failed += len(events)
            continue
        muted += sum(result.muted for result in results)
        unmuted += [result.message_id for result in results if result.unmuted]
    return {"muted": muted, "unmuted": unmuted, "failed": failed}


def flood_guard(count, limit, start_at):
    """
    Record ``count`` occurrences of one error under a flood guard of
    ``limit`` per 10 minutes, half through the in-process client, half in
    batches of 5 through the digest's store, each process with a cache of
    its own (as separate machines have); report what was stored.
    """
    from django.db import OperationalError
    from django.test import override_settings

    from sentry import pipeline
    from sentry.client.models import client
    from sentry.db import get_write_alias, run_in_transaction
    from sentry.models import Message
    from sentry.storage import store_batch

    time.sleep(max(0.0, start_at - time.time()))
    ids, stored, failed = [], 0, 0
    with override_settings(
        SENTRY_THRASHING_LIMIT=limit,
        SENTRY_THRASHING_TIMEOUT=600,
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        },
    ):
        for _ in range(count // 2):
            ids.append(client.create_from_text("flooding error", view="flood.view"))
        for start in range(0, count - count // 2, 5):
            events = [
                pipeline.prepare({"message": "flooding error", "view": "flood.view"})
                for _ in range(min(5, count - count // 2 - start))
            ]
            try:
                results = run_in_transaction(
                    lambda using, events=events: store_batch(using, events),
                    get_write_alias(Message),
                )
            except OperationalError:
                failed += len(events)
                continue
            stored += sum(result.stored for result in results)
    return {
        "recorded": sum(1 for i in ids if i) + count - count // 2 - failed,
        "failed": sum(1 for i in ids if not i) + failed,
        "answered": sorted({i for i in ids if i}),
        "stored_in_batches": stored,
    }


def store_releases(batches, size, start_at):
    """
    Store ``batches`` batches of ``size`` events of the one error "release
    error", from releases older and newer than the one it is resolved in
    (1.0.0); report the events that reopened it.
    """
    from django.db import OperationalError

    from sentry import pipeline
    from sentry.db import get_write_alias, run_in_transaction
    from sentry.models import Message
    from sentry.storage import store_batch

    time.sleep(max(0.0, start_at - time.time()))
    regressed, failed = [], 0
    for _ in range(batches):
        events = [
            pipeline.prepare(
                {
                    "message": "release error",
                    "data": {"release": ("0.9.0", "1.0.0", "2.0.0")[n % 3]},
                }
            )
            for n in range(size)
        ]
        try:
            results = run_in_transaction(
                lambda using, events=events: store_batch(using, events),
                get_write_alias(Message),
            )
        except OperationalError:
            failed += len(events)
            continue
        regressed += [result.message_id for result in results if result.regressed]
    return {"regressed": regressed, "failed": failed}


def record_alerted(count, options, start_at):
    """
    Record ``count`` events of one error with the alert settings ``options``
    (JSON of ``{"SENTRY_...": value}``); return once their alerts are sent.
    """
    from django.test import override_settings

    from sentry import postprocess
    from sentry.client.models import client
    from sentry.plugins.testing import plugin_installed

    apps = ("sentry.plugins.sentry_webhooks", "sentry.plugins.sentry_slack")
    time.sleep(max(0.0, start_at - time.time()))
    ids = []
    with (
        plugin_installed(*apps),
        override_settings(SENTRY_THRASHING_LIMIT=0, **json.loads(options)),
    ):
        for n in range(count):
            ids.append(client.create_from_text("seen by every process", tags={"n": n}))
        # Inside the settings: the plugins' threads read them.
        flushed = postprocess.flush(60)
    return {
        "recorded": sum(1 for i in ids if i),
        "failed": sum(1 for i in ids if not i),
        "flushed": flushed,
    }


def record_flood(count, options, start_at, clock):
    """
    Record ``count`` new errors at the (fixed) time ``clock`` with the alert
    settings ``options``; return once their alerts and summary are sent.
    """
    import datetime as dt

    from django.test import override_settings

    from sentry import postprocess
    from sentry.alerts import flood, rules
    from sentry.client.models import client
    from sentry.plugins.testing import plugin_installed

    at = dt.datetime.fromisoformat(clock)
    rules.now = lambda: at
    # Long enough for every process to be done with the minute.
    # (A loaded machine -- two suites at once -- once took longer than 5 s
    # to record 15 errors in each of four processes.)
    flood.GRACE = 12.0
    time.sleep(max(0.0, start_at - time.time()))
    ids = []
    with (
        plugin_installed("sentry.plugins.sentry_webhooks"),
        override_settings(SENTRY_THRASHING_LIMIT=0, **json.loads(options)),
    ):
        for n in range(count):
            ids.append(client.create_from_text(f"new in {os.getpid()}: {n}"))
        flushed = postprocess.flush(60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(
            worker.timers for worker in list(postprocess._workers.values())
        ):
            time.sleep(0.1)
        flushed = postprocess.flush(60) and flushed
    return {
        "recorded": sum(1 for i in ids if i),
        "failed": sum(1 for i in ids if not i),
        "flushed": flushed,
    }


def survive_failure():
    """Record through a database that fails; report what the caller saw."""
    from sentry.client.models import client

    seen = []

    class Collect(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    logging.getLogger("sentry.errors").addHandler(Collect())
    results = {}
    try:
        1 / 0
    except ZeroDivisionError:
        results["exception"] = client.create_from_exception()
    results["text"] = client.create_from_text("text while the database is down")
    logging.getLogger("tests.worker").addHandler(
        __import__("sentry.client.handlers", fromlist=["SentryHandler"]).SentryHandler()
    )
    logging.getLogger("tests.worker").error("logged while the database is down")
    results["logged_errors"] = len(seen)
    results["logged_text"] = "\n".join(seen)
    results["caller_continued"] = True
    return results


def main():
    mode = sys.argv[1]
    if mode == "record":
        output = record_many(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif mode == "new-groups":
        output = record_new_groups(int(sys.argv[2]), float(sys.argv[3]))
    elif mode == "batches":
        output = store_batches(*map(int, sys.argv[2:5]), float(sys.argv[5]))
    elif mode == "users":
        output = store_users(*map(int, sys.argv[2:4]), float(sys.argv[4]))
    elif mode == "muted":
        output = store_muted(*map(int, sys.argv[2:5]), float(sys.argv[5]))
    elif mode == "flood-guard":
        output = flood_guard(*map(int, sys.argv[2:4]), float(sys.argv[4]))
    elif mode == "releases":
        output = store_releases(*map(int, sys.argv[2:4]), float(sys.argv[4]))
    elif mode == "alerted":
        output = record_alerted(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
    elif mode == "flood":
        output = record_flood(
            int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
        )
    elif mode == "survive":
        output = survive_failure()
    else:
        raise SystemExit(f"unknown mode {mode}")
    return output


if __name__ == "__main__":
    setup()
    from django.test import override_settings

    # Rows are what the concurrency tests count: no flood guard, except in
    # the mode that tests it (which sets its own).
    with override_settings(SENTRY_THRASHING_LIMIT=0):
        print(json.dumps(main()))
