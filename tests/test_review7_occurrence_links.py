"""
A hostile review of the occurrence links (session 7): each test failed
before its fix (sentry_fill_occurrences, sentry.search.apply, migration 0028).
"""

from io import StringIO

import pytest
from django.core.management import call_command

from sentry.management.commands import sentry_fill_occurrences as fill
from sentry.models import Message, OccurrenceValue
from sentry.search import apply_to_occurrences, parse
from tests.ingest_factories import make_key, message_event, post_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    return make_key()


def test_fill_occurrences_stopped_midway_then_run_again_links_the_rest(
    client, key, monkeypatch
):
    for n in range(4):
        post_events(
            client, key, [message_event("old", tags={"n": str(n)}, user={"id": "1"})]
        )
    OccurrenceValue.objects.all().delete()  # as stored before migration 0028

    real = fill._links
    calls = []

    def stopped(using, rows):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the operator's Ctrl-C, a deploy, a crash
        return real(using, rows)

    monkeypatch.setattr(fill, "_links", stopped)
    with pytest.raises(KeyboardInterrupt):
        call_command("sentry_fill_occurrences", "--batch", "2", stdout=StringIO())
    assert OccurrenceValue.objects.count() == 4  # the first batch, committed
    monkeypatch.setattr(fill, "_links", real)

    # "Safe to stop and to run again": the second run must link the rest.
    call_command("sentry_fill_occurrences", stdout=StringIO())

    assert OccurrenceValue.objects.count() == 8
    found = apply_to_occurrences(Message.objects.all(), parse("n:3 user.id:1"))
    assert found.count() == 1


def copies_with_tags(client, key, count, tags):
    """``count`` occurrences of one group, each linked to every tag of ``tags``."""
    from sentry.models import MessageFilterValue

    post_events(client, key, [message_event("many", tags=tags)])
    first = Message.objects.get()
    rows = []
    for n in range(1, count):
        first.pk = None
        first.message_id = f"{n:032x}"
        rows.append(
            Message(
                **{
                    f.attname: getattr(first, f.attname)
                    for f in Message._meta.concrete_fields
                }
            )
        )
    Message.objects.bulk_create(rows, batch_size=200)
    counters = MessageFilterValue.objects.filter(key__startswith="tag:k")
    counters.update(times_seen=count)
    links = [
        OccurrenceValue(message_id=m, value_id=v)
        for m in Message.objects.exclude(
            pk=Message.objects.order_by("pk")[0].pk
        ).values_list("pk", flat=True)
        for v in counters.values_list("pk", flat=True)
    ]
    OccurrenceValue.objects.bulk_create(links, batch_size=2000)
    group = first.group
    group.times_seen = count
    group.save(update_fields=["times_seen"])
    return group


@pytest.fixture
def sqlite_default_limit():
    """SQLite's default of 32,766 parameters (the limit apply.py counts on;
    Debian's libsqlite3 is built with 250,000)."""
    import sqlite3

    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32766)
    try:
        yield
    finally:
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)


def test_navigation_of_a_search_of_eleven_linked_values_does_not_fail(
    client, key, sqlite_default_limit
):
    # Each term matched 1,000 occurrences (then FEW_OCCURRENCES): read as a
    # list of 1,000 ids; navigation puts the condition in one statement
    # three times: 33,000 parameters.
    from sentry.navigation import navigate

    tags = {f"k{n:02}": "v" for n in range(11)}
    copies_with_tags(client, key, 1000, tags)
    query = " ".join(f"k{n:02}:v" for n in range(11))
    message = Message.objects.order_by("pk").last()

    nav = navigate(message, query)  # SQLite said "too many SQL variables"

    assert nav.total == 1000


def test_a_negated_value_is_not_answered_from_an_edited_times_seen(client, key):
    from sentry.models import GroupedMessage

    post_events(client, key, [message_event("err", tags={"tenant": "acme"})])
    post_events(client, key, [message_event("err")])
    group = GroupedMessage.objects.get()
    # times_seen lowered by hand (a reset, a repair) below the counters'
    # sum: it no longer says that every occurrence has the value. (The
    # shortcut trusts that the count and the counters move together, as
    # every write keeps them; an edit to exactly their sum would fool it.)
    GroupedMessage.objects.filter(pk=group.pk).update(times_seen=0)

    found = apply_to_occurrences(
        Message.objects.filter(group=group), parse("!tenant:acme"), group.pk
    )

    assert found.count() == 1


def test_a_value_rare_among_many_occurrences_is_read_from_its_links(client, key):
    # 1,001 occurrences of user 42 among a million (0.1%): checked on each
    # occurrence, the first page reads the group's index until it finds 50 of
    # them -- up to the whole million when they are old. Its links (an index
    # range of 1,001 rows) are the way to read them.
    from sentry.models import GroupedMessage, MessageFilterValue

    post_events(client, key, [message_event("err", user={"id": "42"})])
    group = GroupedMessage.objects.get()
    GroupedMessage.objects.filter(pk=group.pk).update(times_seen=1_000_000)
    MessageFilterValue.objects.filter(key="user.id").update(times_seen=1001)

    found = apply_to_occurrences(
        Message.objects.filter(group=group), parse("user.id:42"), group.pk
    )

    assert found.count() == 1
    assert "COALESCE((SELECT" not in str(found.query).upper()  # no per-row check


def test_links_go_with_occurrences_truncated_on_postgresql(client, key):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's TRUNCATE fires no DELETE trigger")
    post_events(client, key, [message_event("err", tags={"tenant": "acme"})])
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE sentry_message RESTART IDENTITY")
    post_events(client, key, [message_event("err")])  # id 1 again, no tenant

    found = apply_to_occurrences(Message.objects.all(), parse("tenant:acme"))

    assert found.count() == 0  # the new occurrence, without the tag, was found
    assert OccurrenceValue.objects.count() == 0


@pytest.mark.skipif(
    __import__("django.db").db.connection.vendor != "sqlite",
    reason="SQLite's table remake",
)
@pytest.mark.django_db(transaction=True)
def test_a_migration_that_remakes_the_links_table_runs_on_sqlite():
    # SQLite remakes a table to alter it: the old one is dropped and the new
    # one renamed, which it refused while the trigger named the table. The
    # trigger is dropped before migrating and made again after (what the
    # migrate command's pre_migrate and post_migrate signals do).
    from django.db import connection, models

    from sentry.models import MessageFilterValue
    from sentry.occurrences import SQLITE_TRIGGER_NAME, drop_trigger, ensure_trigger

    old = OccurrenceValue._meta.get_field("value")
    new = models.ForeignKey(
        MessageFilterValue,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        null=True,
    )
    new.set_attributes_from_name("value")
    new.model = OccurrenceValue
    drop_trigger(connection.alias, plan=[("a migration", False)])
    try:
        with connection.schema_editor() as editor:
            editor.alter_field(OccurrenceValue, old, new)
        with connection.schema_editor() as editor:
            editor.alter_field(OccurrenceValue, new, old)
    finally:
        ensure_trigger(connection.alias)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = %s",
            [SQLITE_TRIGGER_NAME],
        )
        assert cursor.fetchone()
