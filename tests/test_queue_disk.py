"""The raw queue on disk: what it holds, and for how long.

Accepted SDK events are queued as they came, unscrubbed; the digest scrubs
them. These tests read the bytes of the database files (and SQLite's
write-ahead log) to check that a raw payload is gone once digested, that the
in-process queued client never queues a secret at all, and that events set
aside as unreadable keep no secret and are purged.
"""

import json
import os
import sqlite3
import time
import uuid
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import override_settings

from sentry import digest, queue
from sentry.client.queued import QueuedSentryClient
from sentry.conf import settings as sentry_settings
from sentry.db import give_back_free_pages, reclaimable_queue_connection
from sentry.models import Message, QueuedEvent
from tests.complexity import assert_linear
from tests.ingest_factories import exception_event, make_key, post_events

queued_only = override_settings(SENTRY_DIGEST="worker", SENTRY_THRASHING_LIMIT=0)
apart = override_settings(
    SENTRY_QUEUE_DATABASE="queue",
    DATABASE_ROUTERS=["sentry.routers.SentryRouter"],
    SENTRY_DIGEST="worker",
    SENTRY_THRASHING_LIMIT=0,
)
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="reads SQLite's database and log files"
)


def new_marker():
    return f"hunter2-{uuid.uuid4().hex}"


def event_with_secret(marker):
    """An SDK event carrying ``marker`` where only the raw payload keeps it."""
    return exception_event(
        extra={"password": marker, "retry": 3},
        request={
            "url": "http://shop.example/pay",
            "method": "POST",
            "data": {"card_password": marker},
            "headers": {"Authorization": f"Bearer {marker}"},
        },
    )


def file_bytes(alias):
    """Return the bytes of an SQLite database's files: main, -wal, -journal."""
    name = str(connections[alias].settings_dict["NAME"])
    found = b""
    for path in (name, name + "-wal", name + "-journal"):
        if os.path.exists(path):
            with open(path, "rb") as handle:
                found += handle.read()
    return found


def wal_size(alias):
    path = str(connections[alias].settings_dict["NAME"]) + "-wal"
    return os.path.getsize(path) if os.path.exists(path) else 0


# --- the raw SDK queue ------------------------------------------------------------


@sqlite_only
@pytest.mark.django_db(transaction=True)
@queued_only
def test_a_digested_payload_leaves_no_trace_in_the_database_files(client):
    key = make_key()
    marker = new_marker()
    events = [event_with_secret(marker) for _ in range(20)]

    post_events(client, key, events)
    # The test can see it: the raw payloads are on disk while they wait.
    assert marker.encode() in file_bytes("default")
    report = digest.drain()

    assert report.digested == 20
    assert Message.objects.count() == 20
    assert marker.encode() not in file_bytes("default")
    assert wal_size("default") == 0


@sqlite_only
@pytest.mark.django_db(transaction=True, databases=["default", "queue"])
@apart
def test_a_queue_database_of_its_own_keeps_no_digested_payload(client):
    key = make_key()
    marker = new_marker()

    post_events(client, key, [event_with_secret(marker) for _ in range(20)])
    assert marker.encode() in file_bytes("queue")
    report = digest.drain()

    assert report.digested == 20
    assert marker.encode() not in file_bytes("queue")
    assert marker.encode() not in file_bytes("default")
    assert wal_size("queue") == 0


@pytest.mark.django_db(transaction=True)
@queued_only
def test_queue_connections_zero_what_they_delete(client):
    QueuedEvent.objects.exists()
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1


# --- the free pages the digested queue leaves ------------------------------------


def page_counts(alias):
    """Return ``(pages, free pages, auto_vacuum)`` of an SQLite database."""
    with connections[alias].cursor() as cursor:
        found = []
        for pragma in ("page_count", "freelist_count", "auto_vacuum"):
            cursor.execute(f"PRAGMA {pragma}")
            found.append(cursor.fetchone()[0])
    return tuple(found)


def queue_events(count, padding=6000):
    """Queue ``count`` SDK events of about ``padding`` bytes each."""
    entries = []
    for _ in range(count):
        event = exception_event(extra={"blob": uuid.uuid4().hex * (padding // 32)})
        entries.append(
            queue.Entry(event["event_id"], queue.KIND_EVENT, json.dumps(event).encode())
        )
    queue.enqueue(queue.get_queue_alias(), entries)


@sqlite_only
@pytest.mark.django_db(transaction=True)
@queued_only
def test_a_new_database_gives_the_pages_of_digested_events_back():
    assert page_counts("default")[2] == 2  # made INCREMENTAL when created
    queue_events(300)
    grown, _, _ = page_counts("default")

    report = digest.drain()

    pages, free, _ = page_counts("default")
    assert report.digested == 300
    assert Message.objects.count() == 300  # nothing lost on the way
    assert free <= (pages - free) * 0.1 + 1
    # About 2 MB of raw events went back to the file system.
    assert pages * 4096 < grown * 4096 - 1_000_000


@sqlite_only
@pytest.mark.django_db(transaction=True)
@queued_only
def test_giving_pages_back_never_waits_for_another_writer():
    queue_events(200)
    QueuedEvent.objects.all().delete()
    free_before = page_counts("default")[1]
    other = sqlite3.connect(connections["default"].settings_dict["NAME"], timeout=30)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        started = time.monotonic()
        assert give_back_free_pages("default") == 0
        assert time.monotonic() - started < 1
    finally:
        other.rollback()
        other.close()
    assert page_counts("default")[1] == free_before
    # The next time the queue empties, they go back.
    assert give_back_free_pages("default") > 0


#: Connections the tests below open themselves, closed after each test
#: (Python 3.13 reports an SQLite connection collected while open).
_opened = []


@pytest.fixture(autouse=True)
def _close_opened():
    yield
    while _opened:
        _opened.pop().close()


def opened(connection):
    _opened.append(connection)
    return connection


def sqlite_connection(path, alias="default"):
    """A connection as ``connection_created`` hands it over, on file ``path``."""
    return SimpleNamespace(
        vendor="sqlite",
        alias=alias,
        connection=opened(sqlite3.connect(path, isolation_level=None)),
    )


def test_a_database_that_has_tables_keeps_its_vacuum_mode(tmp_path):
    existing = sqlite_connection(tmp_path / "site.sqlite3")
    existing.connection.execute("CREATE TABLE site_order (id INTEGER)")
    fresh = sqlite_connection(tmp_path / "new.sqlite3")
    fresh.connection.execute("PRAGMA journal_mode = WAL")  # a header, no table

    reclaimable_queue_connection(None, existing)
    reclaimable_queue_connection(None, fresh)

    vacuum = "PRAGMA auto_vacuum"
    assert existing.connection.execute(vacuum).fetchone()[0] == 0
    assert fresh.connection.execute(vacuum).fetchone()[0] == 2
    assert fresh.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_empty_database_opened_read_only_is_left_as_it_is(tmp_path):
    path = tmp_path / "empty.sqlite3"
    opened(sqlite3.connect(path)).execute("PRAGMA user_version = 1")  # no table
    read_only = SimpleNamespace(
        vendor="sqlite",
        alias="default",
        connection=opened(
            sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        ),
    )

    reclaimable_queue_connection(None, read_only)

    assert read_only.connection.execute("PRAGMA auto_vacuum").fetchone()[0] == 0


@apart
def test_with_a_queue_database_only_the_queues_file_is_made_to_give_back(tmp_path):
    queue_file = sqlite_connection(tmp_path / "queue.sqlite3", alias="queue")
    site_file = sqlite_connection(tmp_path / "site.sqlite3", alias="default")

    reclaimable_queue_connection(None, queue_file)
    reclaimable_queue_connection(None, site_file)

    assert queue_file.connection.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    assert site_file.connection.execute("PRAGMA auto_vacuum").fetchone()[0] == 0


@override_settings(SENTRY_QUEUE_VACUUM=False)
def test_the_vacuum_mode_can_be_left_as_sqlite_makes_it(tmp_path):
    fresh = sqlite_connection(tmp_path / "new.sqlite3")

    reclaimable_queue_connection(None, fresh)

    assert fresh.connection.execute("PRAGMA auto_vacuum").fetchone()[0] == 0


# --- the in-process queued client -----------------------------------------------


@pytest.mark.django_db
@queued_only
def test_the_queued_client_queues_a_scrubbed_event():
    marker = new_marker()

    message_id = QueuedSentryClient().create_from_text(
        f"login failed password={marker}",
        data={"password": marker, "note": "kept"},
    )

    row = QueuedEvent.objects.get()
    assert marker.encode() not in row.decode()
    assert b"kept" in row.decode()
    digest.drain()
    stored = Message.objects.get(message_id=message_id)
    assert marker not in stored.message
    assert marker not in repr(stored.data)


# --- set aside --------------------------------------------------------------------


def queue_raw(payload, kind=queue.KIND_EVENT, received=None):
    event_id = uuid.uuid4().hex
    queue.enqueue(
        queue.get_queue_alias(),
        [queue.Entry(event_id, kind, payload, site="shop")],
        received=received,
    )
    return event_id


@pytest.mark.django_db
@queued_only
def test_a_set_aside_event_keeps_its_payload_scrubbed():
    marker = new_marker()
    payload = json.dumps(
        {"message": "x", "extra": {"password": marker, "order": 991}}
    ).encode()
    event_id = queue_raw(payload, kind="no-such-kind")

    report = digest.drain()

    assert report.set_aside == 1
    row = QueuedEvent.objects.get(event_id=event_id)
    assert row.failed
    assert "unknown kind" in row.error
    assert marker.encode() not in row.decode()
    assert json.loads(row.decode())["extra"]["order"] == 991


@pytest.mark.django_db
@queued_only
def test_a_set_aside_payload_that_is_not_json_is_dropped():
    marker = new_marker()
    event_id = queue_raw(f'{{"password": "{marker}", '.encode())

    digest.drain()

    row = QueuedEvent.objects.get(event_id=event_id)
    assert row.failed
    assert bytes(row.payload) == b""
    assert marker not in row.error
    assert "dropped" in row.error


@pytest.mark.django_db
@queued_only
def test_an_event_claimed_too_often_is_set_aside_without_its_payload():
    marker = new_marker()
    event_id = queue_raw(json.dumps({"password": marker}).encode())
    # A digest died on it every time it was claimed.
    QueuedEvent.objects.filter(event_id=event_id).update(
        attempts=sentry_settings.DIGEST_MAX_ATTEMPTS
    )

    digest.drain(steal=True)

    row = QueuedEvent.objects.get(event_id=event_id)
    assert row.failed
    assert bytes(row.payload) == b""


def set_aside_row(days_ago):
    received = time.time() - days_ago * 86400
    event_id = queue_raw(b"[]", received=received)
    QueuedEvent.objects.filter(event_id=event_id).update(failed=True, error="x")
    return event_id


@pytest.mark.django_db
@queued_only
def test_cleanup_purges_set_aside_events_after_the_set_days():
    old = set_aside_row(days_ago=8)
    recent = set_aside_row(days_ago=1)
    waiting = queue_raw(b"{}", received=time.time() - 9 * 86400)

    call_command("cleanup_sentry", verbosity=0)

    assert set(QueuedEvent.objects.values_list("event_id", flat=True)) == {
        recent,
        waiting,
    }
    assert old


@pytest.mark.django_db
@queued_only
@override_settings(SENTRY_QUEUE_SET_ASIDE_DAYS=30)
def test_cleanup_with_no_days_to_keep_purges_every_set_aside_event():
    set_aside_row(days_ago=1)
    set_aside_row(days_ago=0)
    waiting = queue_raw(b"{}")

    call_command("cleanup_sentry", days=0, verbosity=0)

    assert list(QueuedEvent.objects.values_list("event_id", flat=True)) == [waiting]


def test_set_aside_rows_are_kept_a_week_by_default():
    from sentry.conf import DEFAULTS

    assert DEFAULTS["QUEUE_SET_ASIDE_DAYS"] == 7


def test_scrubbing_a_set_aside_payload_takes_linear_time():
    # Wide and deep JSON; the scrubber's own worst cases over text are
    # guarded in its tests.
    def make(n):
        payload = {"extra": {f"password{i}": "x" * 20 for i in range(n)}}
        payload["contexts"] = nested = {}
        for _ in range(min(n, 200)):
            nested["a"] = nested = {}
        return SimpleNamespace(payload=json.dumps(payload).encode())

    def run(row):
        row.decode = lambda: row.payload
        digest.scrubbed_payload(row)

    assert_linear(run, make, 500)


@pytest.mark.django_db
@queued_only
def test_the_reason_an_event_was_set_aside_is_scrubbed_too():
    marker = new_marker()
    row = QueuedEvent.objects.get(event_id=queue_raw(b"{}"))

    digest.set_aside(queue.get_queue_alias(), [row], f"unreadable: password={marker}")

    row.refresh_from_db()
    assert row.failed
    assert marker not in row.error


@pytest.mark.django_db
@queued_only
def test_cleanup_limited_to_a_logger_purges_only_after_the_set_days():
    old = set_aside_row(days_ago=8)
    recent = set_aside_row(days_ago=1)

    call_command("cleanup_sentry", days=0, logger="http404", verbosity=0)

    assert list(QueuedEvent.objects.values_list("event_id", flat=True)) == [recent]
    assert old
