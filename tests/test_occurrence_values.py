"""
Occurrence values: each occurrence linked to its tags and user, written with it,
deleted with it, filled in for the occurrences stored before.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext, override_settings

from sentry.digest import drain
from sentry.models import GroupedMessage, Message, MessageFilterValue, OccurrenceValue
from sentry.occurrences import SQLITE_TRIGGER_NAME, ensure_trigger
from sentry.search import apply_to_occurrences, parse
from sentry.tags import MAX_TAGS
from tests.ingest_factories import make_key, message_event, post_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    return make_key()


def values_of(message):
    """Return the ``key=value`` an occurrence is linked to."""
    links = OccurrenceValue.objects.filter(message=message).values_list(
        "value__key", "value__value"
    )
    return sorted(f"{key}={value}" for key, value in links)


def test_an_occurrence_is_linked_to_its_tags_and_user_not_to_its_columns(client, key):
    post_events(
        client,
        key,
        [
            message_event(
                "card declined",
                release="shop@2.0",
                environment="production",
                server_name="web-1",
                tags={"tenant": "acme"},
                user={"id": "42", "username": "jane"},
                contexts={"browser": {"name": "Firefox", "version": "130"}},
            )
        ],
    )
    occurrence = Message.objects.get()

    assert values_of(occurrence) == [
        "tag:browser=Firefox 130",
        "tag:tenant=acme",
        "user.id=42",
        "user.username=jane",
    ]
    # Each link is to this group's counter of the value.
    counters = MessageFilterValue.objects.filter(
        pk__in=OccurrenceValue.objects.values("value_id")
    )
    assert set(counters.values_list("group_id", flat=True)) == {occurrence.group_id}


def test_a_batch_links_each_occurrence_to_its_own_values(client, key):
    # Queued, then stored by the digest in one batch.
    with override_settings(SENTRY_DIGEST="worker", SENTRY_THRASHING_LIMIT=0):
        events = [
            message_event("one error", user={"id": str(n % 3)}, tags={"n": str(n)})
            for n in range(12)
        ]
        post_events(client, key, events)
        assert drain(batch_size=50).batches == 1

    group = GroupedMessage.objects.get()
    assert group.times_seen == 12
    for occurrence in Message.objects.all():
        n = occurrence.data["tags"]["n"]
        assert values_of(occurrence) == [f"tag:n={n}", f"user.id={int(n) % 3}"]
    assert OccurrenceValue.objects.count() == 24


def test_an_event_links_at_most_the_tags_it_is_counted_under(client, key):
    tags = {f"t{n:03}": "v" for n in range(3 * MAX_TAGS)}
    post_events(client, key, [message_event("many tags", tags=tags, user={"id": "1"})])

    links = values_of(Message.objects.get())
    assert len(links) == MAX_TAGS + 1  # the tags counted, and the user's id
    assert MessageFilterValue.objects.exclude(
        key__in=["server_name", "site", "url", "logger", "level"]
    ).count() == len(links)


def test_an_event_the_flood_guard_keeps_no_row_of_has_no_links(client, key):
    with override_settings(SENTRY_THRASHING_LIMIT=2, SENTRY_THRASHING_TIMEOUT=60):
        for n in range(5):
            post_events(client, key, [message_event("flood", tags={"n": str(n)})])

    assert Message.objects.count() == 2
    assert MessageFilterValue.objects.filter(key="tag:n").count() == 5  # counted
    assert sorted(OccurrenceValue.objects.values_list("value__value", flat=True)) == [
        "0",
        "1",
    ]


def test_hostile_values_are_linked_and_found_as_they_are_counted(client, key):
    odd = ["nul\x00byte", "ünï ✓ 🙂", "x" * 500, "<b>&amp;</b>", "' OR 1=1 --"]
    for value in odd:
        post_events(client, key, [message_event("odd", tags={"odd": value})])

    counters = MessageFilterValue.objects.filter(key="tag:odd")
    assert counters.count() == len(odd)
    assert sorted(len(c.value) for c in counters)[-1] == 200  # cut as counted
    for counter in counters:
        assert OccurrenceValue.objects.filter(value=counter).count() == 1
        if len(counter.value) > 100:
            continue  # longer than a query may be
        # Each occurrence is found by the value as counted (NUL replaced):
        # the search term a Tags link carries.
        query = parse(f'odd:"{counter.value}"')
        found = apply_to_occurrences(Message.objects.all(), query)
        assert found.count() == 1, counter.value


# --- deleted with the occurrence ----------------------------------------------------


def tagged_group(client, key, count=3, message="deleted later"):
    for n in range(count):
        post_events(
            client, key, [message_event(message, tags={"n": str(n)}, user={"id": "1"})]
        )
    return GroupedMessage.objects.get(message=message)


def test_links_go_with_the_occurrences_cleanup_deletes(client, key):
    tagged_group(client, key, count=5)
    kept = tagged_group(client, key, count=1, message="kept")

    call_command("cleanup_sentry", "--keep", "2", stdout=StringIO())

    assert Message.objects.count() == 3
    assert OccurrenceValue.objects.count() == 6
    assert set(OccurrenceValue.objects.values_list("message_id", flat=True)) == set(
        Message.objects.values_list("pk", flat=True)
    )
    assert values_of(Message.objects.get(group=kept)) == ["tag:n=0", "user.id=1"]


def test_links_go_with_a_deleted_group_whose_occurrences_go_in_one_statement(
    client, key
):
    group = tagged_group(client, key)
    other = tagged_group(client, key, count=1, message="other")

    with CaptureQueriesContext(connection) as queries:
        group.delete()

    assert OccurrenceValue.objects.count() == 2
    assert set(OccurrenceValue.objects.values_list("message_id", flat=True)) == set(
        other.message_set.values_list("pk", flat=True)
    )
    # Django does not read the occurrences to delete them (no cascade of its
    # own reaches the links): the database's trigger deletes those.
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert not any("sentry_message" in sql.split(" FROM ")[1][:40] for sql in reads)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite drops triggers")
def test_the_sqlite_trigger_is_made_again_after_a_migration_drops_it(client, key):
    tagged_group(client, key, count=2)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {SQLITE_TRIGGER_NAME}")
    Message.objects.filter(pk=Message.objects.first().pk).delete()
    assert OccurrenceValue.objects.count() == 4  # orphans, meanwhile

    ensure_trigger(using="default")

    assert OccurrenceValue.objects.count() == 2
    Message.objects.all().delete()
    assert OccurrenceValue.objects.count() == 0


# --- filled in for occurrences stored before ----------------------------------------


def test_fill_occurrences_links_the_occurrences_stored_before(client, key):
    tagged_group(client, key, count=4)
    before = sorted(OccurrenceValue.objects.values_list("value_id", "message_id"))
    OccurrenceValue.objects.all().delete()  # as stored before migration 0028
    out = StringIO()

    call_command("sentry_fill_occurrences", "--batch", "3", stdout=out)

    assert sorted(OccurrenceValue.objects.values_list("value_id", "message_id")) == (
        before
    )
    last = Message.objects.order_by("pk").last().pk
    assert out.getvalue() == (
        f"Filled 0 of the 4 occurrences read and linked 8 values (up to id {last}).\n"
    )
    found = apply_to_occurrences(Message.objects.all(), parse("n:2 user.id:1"))
    assert found.count() == 1

    # Run again: the occurrences linked since are not read, nothing is doubled.
    again = StringIO()
    call_command("sentry_fill_occurrences", stdout=again)
    assert again.getvalue() == (
        "Filled 0 of the 0 occurrences read and linked 0 values (up to id 0).\n"
    )
    assert OccurrenceValue.objects.count() == 8


def test_fill_occurrences_stops_at_the_first_occurrence_linked_when_stored(client, key):
    tagged_group(client, key, count=3)
    first, *rest = Message.objects.order_by("pk")
    OccurrenceValue.objects.filter(message=first).delete()  # stored before 0028
    out = StringIO()

    call_command("sentry_fill_occurrences", stdout=out)

    assert out.getvalue() == (
        "Filled 0 of the 1 occurrences read and linked 2 values "
        f"(up to id {first.pk}).\n"
    )
    assert OccurrenceValue.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_the_links_and_their_trigger_and_goes_back(client, key):
    executor = MigrationExecutor(connection)
    before = [("sentry", "0027_alert_rule_limits")]
    try:
        executor.migrate(before)
        assert "sentry_occurrencevalue" not in connection.introspection.table_names()
        with connection.cursor() as cursor:  # no trigger left to fail
            cursor.execute("DELETE FROM sentry_message")
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        ensure_trigger(connection.alias)  # what migrate does after (post_migrate)

        tagged_group(client, key, count=2)
        assert OccurrenceValue.objects.count() == 4
        Message.objects.filter(pk=Message.objects.first().pk).delete()
        assert OccurrenceValue.objects.count() == 2
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        ensure_trigger(connection.alias)


def test_an_occurrence_whose_links_cannot_be_made_is_stored_all_the_same(
    client, key, monkeypatch, caplog
):
    from sentry import storage

    real = storage.upsert_counters

    def ids_lost(*args, **kwargs):
        real(*args, **kwargs)
        return {}

    monkeypatch.setattr(storage, "upsert_counters", ids_lost)
    post_events(client, key, [message_event("kept", tags={"a": "1", "b": "2"})])

    assert Message.objects.get().message == "kept"
    assert OccurrenceValue.objects.count() == 0
    assert "2 values of occurrences not linked" in caplog.text
