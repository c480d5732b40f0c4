"""The queue in a database of its own (SENTRY_QUEUE_DATABASE): still exactly once."""

import os
import sqlite3
import subprocess
import sys
from contextlib import closing, contextmanager
from types import SimpleNamespace

import pytest
from django.core import checks as django_checks
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import Sum
from django.test import override_settings

from sentry import checks, drain
from sentry import queue as queue_module
from sentry.client.queued import QueuedSentryClient
from sentry.digest import drain as digest
from sentry.models import GroupedMessage, Message, MessageCountByMinute, QueuedEvent
from sentry.queue import DigestedEvent, Entry, enqueue, prune_digested
from sentry.routers import SentryRouter
from tests.ingest_factories import (
    make_key,
    message_event,
    post_events,
)
from tests.processes import wait_for

pytestmark = pytest.mark.django_db(databases=["default", "queue"])

ROUTER = "sentry.routers.SentryRouter"
apart = override_settings(
    SENTRY_QUEUE_DATABASE="queue",
    DATABASE_ROUTERS=[ROUTER],
    SENTRY_DIGEST="worker",
    SENTRY_THRASHING_LIMIT=0,
)


@pytest.fixture
def key():
    return make_key()


def one_error(count, message="disk full"):
    return [
        message_event(message=message, server_name=f"web-{n % 2}") for n in range(count)
    ]


def counted():
    """Return (times_seen, per-minute count, per-value count of servers)."""
    return (
        GroupedMessage.objects.aggregate(n=Sum("times_seen"))["n"],
        MessageCountByMinute.objects.aggregate(n=Sum("times_seen"))["n"],
        sum(
            group.messagefiltervalue_set.filter(key="server_name").aggregate(
                n=Sum("times_seen")
            )["n"]
            or 0
            for group in GroupedMessage.objects.all()
        ),
    )


@contextmanager
def queue_rows_cannot_be_deleted():
    """
    Make the digest fail right after its main transaction commits.

    A trigger in the queue's database refuses to delete queue rows: the
    state it leaves -- counted and recorded in the main database, the rows
    still queued and leased -- is the state a digest killed at that moment
    leaves.
    """
    queue = connections["queue"]
    with queue.cursor() as cursor:
        if queue.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER sentry_test_crash BEFORE DELETE ON sentry_queuedevent "
                "BEGIN SELECT RAISE(ABORT, 'killed'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION sentry_test_crash() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'killed'; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER sentry_test_crash BEFORE DELETE ON sentry_queuedevent "
                "FOR EACH ROW EXECUTE FUNCTION sentry_test_crash()"
            )
    try:
        yield
    finally:
        with queue.cursor() as cursor:
            if queue.vendor == "sqlite":
                cursor.execute("DROP TRIGGER sentry_test_crash")
            else:
                cursor.execute("DROP TRIGGER sentry_test_crash ON sentry_queuedevent")
                cursor.execute("DROP FUNCTION sentry_test_crash()")


# --- accepting and digesting ----------------------------------------------------


@apart
def test_events_are_queued_in_the_queue_database_and_stored_in_the_main_one(
    client, key
):
    post_events(client, key, one_error(6) + one_error(4, "timeout"))

    assert QueuedEvent.objects.using("queue").count() == 10
    assert not QueuedEvent.objects.using("default").exists()
    assert not Message.objects.exists()

    report = digest()

    assert report.digested == 10
    assert Message.objects.using("default").count() == 10
    assert counted() == (10, 10, 10)
    assert not QueuedEvent.objects.using("queue").exists()
    # Recorded in the store transactions, forgotten once the rows were gone.
    assert not DigestedEvent.objects.exists()


@apart
def test_each_batch_forgets_the_ids_of_the_one_before(client, key, monkeypatch):
    post_events(client, key, one_error(10))
    seen = []
    original = queue_module.mark_digested

    def mark_digested(using, event_ids):
        # What the table holds when each batch records its ids (a spy: the
        # real function does the work).
        seen.append(DigestedEvent.objects.count())
        return original(using, event_ids)

    monkeypatch.setattr(queue_module, "mark_digested", mark_digested)
    report = digest(batch_size=3)

    assert report.digested == 10
    assert report.batches == 4
    assert seen == [0, 0, 0, 0]
    assert not DigestedEvent.objects.exists()


@pytest.mark.django_db(transaction=True, databases=["default", "queue"])
@apart
def test_a_drain_inside_a_host_transaction_waits_for_its_commit(client):
    from django.db import transaction

    key = make_key()
    post_events(client, key, one_error(2))

    with transaction.atomic():
        assert digest().batches == 0
        # Stored in the host's transaction, the events would be counted
        # while its rollback could still undo them.
        assert QueuedEvent.objects.count() == 2

    assert Message.objects.count() == 2
    assert not QueuedEvent.objects.exists()


@apart
def test_the_default_manager_and_the_router_read_the_queue_database(client, key):
    post_events(client, key, one_error(2))

    assert QueuedEvent.objects.count() == 2
    assert QueuedEvent.objects.db == "queue"
    assert Message.objects.db == "default"


@apart
def test_inline_digest_stores_before_the_answer(client, key):
    with override_settings(SENTRY_DIGEST="inline"):
        post_events(client, key, one_error(3))

    assert Message.objects.count() == 3
    assert not QueuedEvent.objects.exists()
    assert not DigestedEvent.objects.exists()


@apart
def test_the_queued_client_queues_in_the_queue_database():
    message_id = QueuedSentryClient().create_from_text("queued apart")

    assert QueuedEvent.objects.using("queue").get().event_id == message_id
    digest()
    assert Message.objects.get().message_id == message_id


# --- exactly once across two databases ------------------------------------------


@apart
def test_a_batch_replayed_after_a_crash_between_the_commits_counts_nothing(client, key):
    with override_settings(SENTRY_THRASHING_LIMIT=3):
        # 12 events, of which the flood guard keeps 3 + 2 as Message rows:
        # the others are counted without one.
        post_events(client, key, one_error(10) + one_error(2, "timeout"))
        with queue_rows_cannot_be_deleted():
            first = digest()
        assert first.digested == 12
        assert Message.objects.count() == 5
        assert counted() == (12, 12, 12)
        # Stored, recorded, and still queued: as a killed digest leaves them.
        assert QueuedEvent.objects.count() == 12
        assert DigestedEvent.objects.count() == 12

        # The dead digest's lease runs out; the batch is digested again.
        QueuedEvent.objects.update(lease_until=0)
        second = digest()

    assert second.digested == 0
    assert second.duplicates == 12
    assert Message.objects.count() == 5
    assert counted() == (12, 12, 12)
    assert not QueuedEvent.objects.exists()
    assert not DigestedEvent.objects.exists()


@apart
def test_an_event_sent_again_while_its_id_is_recorded_counts_nothing(client, key):
    [event] = one_error(1)
    post_events(client, key, [event])
    with queue_rows_cannot_be_deleted():
        digest()
    QueuedEvent.objects.all().delete()  # the rows are gone, the ids not yet forgotten

    post_events(client, key, [event])
    report = digest()

    assert report.duplicates == 1
    assert counted() == (1, 1, 1)


def test_digested_ids_are_forgotten_only_once_their_queue_rows_are_gone():
    queued, gone = "a" * 32, "b" * 32
    enqueue("queue", [Entry(queued, "event", b"{}")])
    DigestedEvent.objects.bulk_create(
        [DigestedEvent(event_id=queued), DigestedEvent(event_id=gone)]
    )

    assert prune_digested("default", "queue") == 1

    assert list(DigestedEvent.objects.values_list("event_id", flat=True)) == [queued]


@apart
def test_a_drain_and_cleanup_forget_what_a_dead_digest_left_recorded():
    DigestedEvent.objects.create(event_id="c" * 32)
    digest()
    assert not DigestedEvent.objects.exists()

    DigestedEvent.objects.create(event_id="d" * 32)
    call_command("cleanup_sentry", verbosity=0)
    assert not DigestedEvent.objects.exists()


@override_settings(SENTRY_DIGEST="worker", SENTRY_THRASHING_LIMIT=0)
def test_with_one_database_nothing_is_recorded(client, key):
    post_events(client, key, one_error(3))

    assert digest().digested == 3

    assert not DigestedEvent.objects.exists()
    assert not QueuedEvent.objects.exists()


# --- the embedded drainer and the drain lock ----------------------------------------


@pytest.mark.django_db(transaction=True, databases=["default", "queue"])
@apart
@override_settings(SENTRY_DIGEST="embedded", SENTRY_DIGEST_INTERVAL=0.05)
def test_the_embedded_drainer_digests_a_queue_of_its_own(client):
    key = make_key()
    post_events(client, key, one_error(5))

    assert wait_for(lambda: Message.objects.count() == 5)
    assert wait_for(lambda: not QueuedEvent.objects.exists())
    assert wait_for(lambda: not DigestedEvent.objects.exists())
    # Asleep again for the rest of the suite.
    drain.get_drainer().last_kick = 0.0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the drain lock is SQLite's")
def test_drainers_of_a_queue_database_take_turns_on_its_file():
    first = drain.DrainLock("queue", "default")
    second = drain.DrainLock("queue", "default")
    assert first.exclusive
    assert first.path == str(connections["queue"].settings_dict["NAME"]) + (
        ".digest.lock"
    )

    assert first.acquire()
    try:
        assert not second.acquire()
    finally:
        first.release()
    assert second.acquire()
    second.release()


# --- the router and migrations ----------------------------------------------------


@override_settings(SENTRY_QUEUE_DATABASE="queue")
def test_the_router_keeps_the_queue_alone_in_its_database():
    router = SentryRouter()

    assert router.db_for_write(QueuedEvent) == "queue"
    assert router.db_for_read(QueuedEvent) == "queue"
    assert router.db_for_write(Message) is None
    assert router.db_for_write(DigestedEvent) is None
    assert router.allow_migrate("queue", "sentry", "queuedevent")
    assert not router.allow_migrate("default", "sentry", "queuedevent")
    assert not router.allow_migrate("queue", "sentry", "message")
    assert not router.allow_migrate("queue", "sentry", "digestedevent")
    assert not router.allow_migrate("queue", "auth", "user")
    assert router.allow_migrate("default", "sentry", "message") is None
    assert router.allow_migrate("default", "auth", "user") is None


@override_settings(SENTRY_QUEUE_DATABASE="default")
def test_a_queue_database_that_is_the_main_one_changes_nothing():
    router = SentryRouter()

    assert router.allow_migrate("default", "sentry", "queuedevent")
    assert router.allow_migrate("default", "sentry", "message") is None
    assert router.allow_migrate("default", "auth", "user") is None


def test_migrate_creates_only_the_queue_in_the_queue_database(tmp_path):
    main, queue = tmp_path / "main.sqlite3", tmp_path / "queue.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.server.settings",
        "SENTRY_SERVER_DB": f"sqlite:{main}",
        "SENTRY_SERVER_QUEUE_DB": f"sqlite:{queue}",
    }
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for database in ("default", "queue"):
        subprocess.run(
            [sys.executable, "-m", "django", "migrate", "--database", database],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def tables(path):
        # sqlite3's own "with" commits but does not close.
        with closing(sqlite3.connect(path)) as db:
            rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return {name for (name,) in rows if not name.startswith("sqlite_")}

    assert tables(queue) == {"django_migrations", "sentry_queuedevent"}
    assert "sentry_queuedevent" not in tables(main)
    assert {"sentry_message", "sentry_digestedevent"} <= tables(main)


# --- system checks ----------------------------------------------------------------


def sentry_check_ids():
    return sorted(
        message.id
        for message in django_checks.run_checks(databases=[])
        if message.id.startswith("sentry.")
    )


@override_settings(SENTRY_QUEUE_DATABASE="queue", DATABASE_ROUTERS=[ROUTER])
def test_a_queue_database_with_the_router_is_fine():
    assert sentry_check_ids() == []


@override_settings(SENTRY_QUEUE_DATABASE="nowhere", DATABASE_ROUTERS=[ROUTER])
def test_an_unknown_queue_database_is_an_error():
    assert sentry_check_ids() == ["sentry.E017"]


@override_settings(SENTRY_QUEUE_DATABASE="queue")
def test_a_queue_database_without_the_router_is_a_warning():
    assert sentry_check_ids() == ["sentry.W005"]


@override_settings(SENTRY_QUEUE_DATABASE="default")
def test_the_main_database_as_queue_database_needs_no_router():
    assert sentry_check_ids() == []


def settings_with(monkeypatch, queue):
    sqlite = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/srv/main.sqlite3",
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
    monkeypatch.setattr(
        checks,
        "django_settings",
        SimpleNamespace(
            DATABASES={"default": sqlite, "queue": queue}, DATABASE_ROUTERS=[ROUTER]
        ),
    )


@override_settings(SENTRY_QUEUE_DATABASE="queue", DATABASE_ROUTERS=[ROUTER])
def test_a_queue_database_in_memory_is_an_error(monkeypatch):
    settings_with(
        monkeypatch, {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    )

    assert [e.id for e in checks._check_queue_database()] == ["sentry.E018"]


@override_settings(SENTRY_QUEUE_DATABASE="queue", DATABASE_ROUTERS=[ROUTER])
def test_a_sqlite_queue_database_without_wal_is_warned_about(monkeypatch):
    settings_with(
        monkeypatch, {"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/q.sqlite3"}
    )

    warnings = checks._check_sqlite()

    assert [(w.id, "'queue'" in w.msg) for w in warnings] == [("sentry.W004", True)]
