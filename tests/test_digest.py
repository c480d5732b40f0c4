"""The queue and the batched digest: exactly once, exact counts, no stuck events."""

import json

import pytest
from django.core import mail
from django.db import OperationalError
from django.db.models import Sum
from django.test import override_settings

from sentry import digest, notifications, queue
from sentry.client.queued import QueuedSentryClient
from sentry.digest import drain
from sentry.models import (
    GroupedMessage,
    Message,
    MessageCountByMinute,
    MessageFilterValue,
    QueuedEvent,
)
from tests.ingest_factories import (
    envelope,
    exception_event,
    make_key,
    message_event,
    post_envelope,
    post_events,
)

pytestmark = pytest.mark.django_db

queued_only = override_settings(SENTRY_DIGEST="worker", SENTRY_THRASHING_LIMIT=0)


@pytest.fixture
def key():
    return make_key()


def kinds_of_errors(count, kinds):
    """``count`` events over ``kinds`` distinct errors, several servers."""
    return [
        message_event(
            message=f"error kind {n % kinds}",
            server_name=f"web-{n % 3}",
            tags={"tenant": f"t{n % 2}"},
        )
        for n in range(count)
    ]


def queue_raw(event_id, payload, kind=queue.KIND_EVENT, site="shop"):
    queue.enqueue("default", [queue.Entry(event_id, kind, payload, site=site)])


# --- accepting ----------------------------------------------------------------


@queued_only
def test_an_accepted_event_is_a_committed_queue_row_until_digested(client, key):
    event = exception_event()

    post_events(client, key, [event])

    row = QueuedEvent.objects.get()
    assert row.event_id == event["event_id"]
    assert row.kind == "event"
    assert row.site == "shop"
    assert json.loads(row.decode())["event_id"] == event["event_id"]
    assert Message.objects.count() == 0

    report = drain()

    assert (report.digested, report.set_aside) == (1, 0)
    assert Message.objects.get().message_id == event["event_id"]
    assert QueuedEvent.objects.count() == 0


@queued_only
def test_an_event_sent_again_while_it_waits_is_queued_once(client, key):
    event = exception_event()

    post_events(client, key, [event, event, event])

    assert QueuedEvent.objects.count() == 1
    drain()
    assert GroupedMessage.objects.get().times_seen == 1


@queued_only
def test_an_event_sent_again_after_its_digest_counts_nothing(client, key):
    event = exception_event()
    post_events(client, key, [event])
    drain()

    post_events(client, key, [event])
    report = drain()

    assert (report.digested, report.duplicates) == (0, 1)
    assert Message.objects.count() == 1
    assert GroupedMessage.objects.get().times_seen == 1
    assert QueuedEvent.objects.count() == 0


@queued_only
def test_every_item_of_an_envelope_is_queued(client, key):
    event = message_event()
    body = envelope(
        ("event", event),
        ("user_report", {"event_id": event["event_id"], "comments": "it broke"}),
        event_id=event["event_id"],
    )

    assert post_envelope(client, body, key).json() == {"id": event["event_id"]}

    assert sorted(QueuedEvent.objects.values_list("kind", flat=True)) == [
        "event",
        "user_report",
    ]
    drain()
    assert Message.objects.filter(logger="feedback").count() == 1


# --- batches --------------------------------------------------------------------


@queued_only
def test_a_batch_counts_every_event_exactly(client, key):
    post_events(client, key, kinds_of_errors(60, kinds=4))

    report = drain(batch_size=25)

    assert (report.digested, report.batches) == (60, 3)
    assert GroupedMessage.objects.count() == 4
    assert GroupedMessage.objects.aggregate(n=Sum("times_seen"))["n"] == 60
    for group in GroupedMessage.objects.all():
        assert group.times_seen == group.message_set.count() == 15
        assert group.first_seen <= group.last_seen
    servers = MessageFilterValue.objects.filter(key="server_name")
    assert servers.aggregate(n=Sum("times_seen"))["n"] == 60
    assert servers.filter(value="web-0").aggregate(n=Sum("times_seen"))["n"] == 20
    tags = MessageFilterValue.objects.filter(key="tag:tenant")
    assert tags.aggregate(n=Sum("times_seen"))["n"] == 60
    assert MessageCountByMinute.objects.aggregate(n=Sum("times_seen"))["n"] == 60


@queued_only
def test_a_batch_costs_statements_per_group_not_per_event(
    client, key, django_assert_max_num_queries
):
    post_events(client, key, kinds_of_errors(200, kinds=2))

    # Claim (3), load, the groups' dictionaries (look up, create, read),
    # duplicates, lock, check of the dictionaries, 2 x (reopen + count +
    # short id), the new groups' search text, messages, values, the
    # occurrences' links to their values, counters,
    # the values' hourly counts, the projects' hourly counts, the history of
    # the new groups (one INSERT), delete, savepoints: a constant, whatever
    # the batch size.
    # (PostgreSQL: no lock, but one query for the new groups and a lock of
    # their project's counter.) Plus the alert channels and rules saved on
    # the dashboard (2), read once every few seconds per process.
    with django_assert_max_num_queries(42):
        report = drain(batch_size=500)

    assert report.digested == 200


@queued_only
def test_the_flood_guard_still_counts_every_event(client, key):
    with override_settings(SENTRY_THRASHING_LIMIT=5):
        post_events(client, key, kinds_of_errors(12, kinds=1))
        drain()

    assert GroupedMessage.objects.get().times_seen == 12
    assert Message.objects.count() == 5


@queued_only
def test_a_new_and_a_regressed_group_are_mailed_once_each(client, key):
    events = [message_event(message="disk full", level="error") for _ in range(4)]
    with override_settings(SENTRY_ADMINS=["ops@example.com"]):
        post_events(client, key, events)
        drain()
        GroupedMessage.objects.update(status=GroupedMessage.STATUS_RESOLVED)
        post_events(client, key, [message_event(message="disk full", level="error")])
        post_events(client, key, [message_event(message="disk full", level="error")])
        drain()
        assert notifications.flush()

    assert [m.subject for m in mail.outbox] == [
        "[Sentry] New error (ERROR): disk full",
        "[Sentry] Regression (ERROR): disk full",
    ]
    group = GroupedMessage.objects.get()
    assert group.status == GroupedMessage.STATUS_UNRESOLVED
    assert group.times_seen == 6


# --- bad events never block the queue ---------------------------------------------


@queued_only
def test_an_unreadable_event_is_set_aside_and_the_rest_digested(
    client, key, sentry_errors
):
    queue_raw("b" * 32, b"[1, 2, 3]")
    post_events(client, key, kinds_of_errors(3, kinds=1))

    report = drain()

    assert (report.digested, report.set_aside) == (3, 1)
    bad = QueuedEvent.objects.get()
    assert bad.failed and "not a JSON object" in bad.error
    assert "Unable to read queued event" in sentry_errors[0].getMessage()
    # Set aside for good: the next drain leaves it alone.
    assert drain().batches == 0


@queued_only
def test_an_event_the_database_refuses_is_found_and_set_aside(
    client, key, monkeypatch, sentry_errors
):
    events = kinds_of_errors(5, kinds=5)
    poison = events[2]["event_id"]
    post_events(client, key, events)
    store = digest._store

    def refuse_poison(using, batch, rows):
        if any(event["message_id"] == poison for event in batch):
            raise ValueError("value out of range")
        return store(using, batch, rows)

    monkeypatch.setattr(digest, "_store", refuse_poison)

    report = drain()

    assert (report.digested, report.set_aside) == (4, 1)
    assert QueuedEvent.objects.get().event_id == poison
    assert not Message.objects.filter(message_id=poison).exists()
    assert GroupedMessage.objects.aggregate(n=Sum("times_seen"))["n"] == 4


@queued_only
def test_database_trouble_sets_nothing_aside(client, key, monkeypatch):
    post_events(client, key, kinds_of_errors(3, kinds=1))

    def locked(using, batch, rows):
        raise OperationalError("database is locked")

    monkeypatch.setattr(digest, "_store", locked)

    with pytest.raises(OperationalError):
        drain()

    rows = QueuedEvent.objects.all()
    assert [(r.failed, r.attempts, r.lease_until) for r in rows] == [(False, 0, 0)] * 3
    monkeypatch.undo()
    assert drain().digested == 3


@queued_only
def test_an_event_a_digest_died_with_is_retried_alone_then_set_aside(
    client, key, sentry_errors
):
    post_events(client, key, kinds_of_errors(2, kinds=1))
    crashed = QueuedEvent.objects.order_by("id").first()
    # A digest claimed it and died: its attempt counted, its lease ran out.
    QueuedEvent.objects.filter(pk=crashed.pk).update(attempts=1)

    report = drain()

    assert report.digested == 2
    assert report.batches == 1

    post_events(client, key, kinds_of_errors(1, kinds=1))
    QueuedEvent.objects.update(attempts=3)  # died with it three times

    report = drain()

    assert (report.digested, report.set_aside) == (0, 1)
    assert "never digested" in QueuedEvent.objects.get().error


@queued_only
def test_a_leased_batch_is_left_to_its_digest_unless_stolen(client, key):
    post_events(client, key, kinds_of_errors(2, kinds=1))
    QueuedEvent.objects.update(lease_until=2e9, attempts=1)

    assert drain().batches == 0
    assert drain(steal=True).digested == 2


@queued_only
def test_a_claim_leases_rows_and_reads_them_after_its_commit(client, key):
    post_events(client, key, kinds_of_errors(3, kinds=1))
    first = QueuedEvent.objects.order_by("id").first()

    claimed = queue.claim("default", 2, lease=60)

    assert claimed == [(first.pk, 1), (first.pk + 1, 1)]
    leased = QueuedEvent.objects.filter(lease_until__gt=0)
    assert sorted(leased.values_list("pk", "attempts")) == claimed
    rows = queue.load("default", claimed)
    assert [(row.pk, row.attempts) for row in rows] == claimed
    assert json.loads(rows[0].decode())["event_id"] == first.event_id
    # The third is left to the next claim.
    assert queue.claim("default", 2, lease=60) == [(first.pk + 2, 1)]


@queued_only
@pytest.mark.django_db(transaction=True)
def test_a_drain_inside_a_transaction_is_never_lost(client, key):
    from django.db import connection, transaction

    post_events(client, key, kinds_of_errors(2, kinds=1))

    with transaction.atomic():
        if connection.vendor == "sqlite":
            assert drain().batches == 0
            # Nothing was claimed for later either: no row leased for nobody.
            assert not QueuedEvent.objects.filter(lease_until__gt=0).exists()
            assert not Message.objects.exists()
        else:
            # Claimed on a second connection, stored in this transaction.
            assert drain().digested == 2

    assert Message.objects.count() == 2
    assert not QueuedEvent.objects.exists()


# --- the queued client --------------------------------------------------------------


@queued_only
def test_the_queued_client_only_queues_and_the_digest_stores_it():
    client = QueuedSentryClient()
    try:
        {}["missing"]
    except KeyError:
        message_id = client.create_from_exception(url="http://shop/cart/")

    assert len(message_id) == 32
    assert Message.objects.count() == 0
    row = QueuedEvent.objects.get()
    assert (row.event_id, row.kind) == (message_id, "client")

    drain()

    message = Message.objects.get(message_id=message_id)
    assert message.class_name == "KeyError"
    assert message.server_name == "test-server"
    assert message.url == "http://shop/cart/"
    frames = message.data["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames[-1]["function"].endswith(
        "test_the_queued_client_only_queues_and_the_digest_stores_it"
    )


@queued_only
def test_the_queued_client_scrubs_in_the_digest():
    client = QueuedSentryClient()
    password = "hunter2-secret"  # noqa: F841 - captured as a local variable
    try:
        1 / 0
    except ZeroDivisionError:
        message_id = client.create_from_exception()
    drain()

    frame = Message.objects.get(message_id=message_id).data["exception"]["values"][-1][
        "stacktrace"
    ]["frames"][-1]
    assert frame["vars"]["password"] == "********"


def test_the_queued_client_never_raises(monkeypatch, sentry_errors):
    def broken(using, entries, received=None):
        raise RuntimeError("database is gone")

    monkeypatch.setattr(queue, "enqueue", broken)

    assert QueuedSentryClient().create_from_text("lost") is None
    assert "Unable to record an error" in sentry_errors[0].getMessage()


@override_settings(SENTRY_DIGEST="inline")
def test_inline_mode_digests_before_answering(client, key):
    event = exception_event()

    post_events(client, key, [event])

    assert Message.objects.get().message_id == event["event_id"]
    assert QueuedEvent.objects.count() == 0


def test_large_payloads_are_queued_compressed_and_read_back():
    small = b'{"message": "short"}'
    large = b'{"message": "' + b"x" * (queue.COMPRESS_ABOVE + 1) + b'"}'

    assert queue.compress(small) == small
    assert len(queue.compress(large)) < len(large)
    assert queue.decompress(queue.compress(large)) == large
    assert queue.decompress(small) == small


@pytest.mark.parametrize("level", [float("inf"), float("-inf"), float("nan")])
def test_a_level_that_is_no_number_is_an_error(level):
    from sentry.pipeline import normalize_level

    assert normalize_level(level) == 40
