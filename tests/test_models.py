"""The ORM API: fields, constraints, indexes, routing."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.test import override_settings
from django.utils import timezone

from sentry.client.models import client
from sentry.models import (
    FilterValue,
    GroupedMessage,
    Message,
    MessageCountByMinute,
    MessageFilterValue,
    get_score,
)
from tests.ingest_factories import make_project

pytestmark = pytest.mark.django_db


def make_group(**fields):
    now = timezone.now()
    values = {
        "message": "m",
        "checksum": "c" * 32,
        "first_seen": now,
        "last_seen": now,
    }
    values.update(fields)
    return GroupedMessage.objects.create(**values)


def test_status_constants():
    assert GroupedMessage.STATUS_UNRESOLVED == 0
    assert GroupedMessage.STATUS_RESOLVED == 1


def test_groups_are_unique_on_logger_view_and_checksum():
    make_group(logger="a", view="v")
    make_group(logger="b", view="v")
    with pytest.raises(IntegrityError):
        make_group(logger="a", view="v")


def test_groups_without_a_view_are_unique_too():
    make_group(logger="a")
    with pytest.raises(IntegrityError):
        make_group(logger="a")


def test_score_favours_frequent_and_recent_errors():
    now = timezone.now()
    assert get_score(100, now) > get_score(1, now)
    assert get_score(1, now) > get_score(1, now - dt.timedelta(hours=1))


def test_message_set_and_datetimes_are_aware():
    message_id = client.create_from_text("aware")
    message = Message.objects.get(message_id=message_id)
    group = message.group
    assert list(group.message_set.all()) == [message]
    assert timezone.is_aware(message.datetime)
    assert timezone.is_aware(group.first_seen)


def test_counters_are_written_for_every_occurrence():
    with override_settings(SENTRY_SITE="shop"):
        for _ in range(3):
            client.create_from_text("counted", url="http://shop/a")
        client.create_from_text("counted", url="http://shop/b", server_name="web-2")

    group = GroupedMessage.objects.get()
    counts = {
        (mfv.key, mfv.value): mfv.times_seen
        for mfv in MessageFilterValue.objects.filter(group=group)
    }
    assert counts[("url", "http://shop/a")] == 3
    assert counts[("url", "http://shop/b")] == 1
    assert counts[("server_name", "test-server")] == 3
    assert counts[("server_name", "web-2")] == 1
    assert counts[("site", "shop")] == 4
    assert counts[("level", "40")] == 4
    assert set(FilterValue.objects.values_list("key", "value")) >= {
        ("server_name", "test-server"),
        ("server_name", "web-2"),
        ("site", "shop"),
        ("logger", "root"),
        ("level", "40"),
    }
    assert MessageCountByMinute.objects.filter(group=group).count() >= 1
    assert sum(MessageCountByMinute.objects.values_list("times_seen", flat=True)) == 4


def test_per_value_first_and_last_seen_track_the_occurrences():
    early = timezone.now() - dt.timedelta(days=1)
    client.create_from_text("dated", datetime=early)
    client.create_from_text("dated")

    mfv = MessageFilterValue.objects.get(key="server_name")
    assert mfv.first_seen == early
    assert mfv.last_seen > early
    group = GroupedMessage.objects.get()
    assert group.first_seen == early


def query_plan(queryset):
    if connection.vendor == "postgresql":
        # A tiny table is scanned sequentially whatever its indexes; show the
        # plan the planner would choose for a large one.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            # Nor a sort: an index that also gives the order is what is meant.
            cursor.execute("SET LOCAL enable_sort = off")
            # Statistics that autovacuum gathered while other tests filled
            # the tables (a few groups, many rows) sway the choice: plan as on
            # a fresh database. Rolled back with the test's transaction.
            cursor.execute(
                "DELETE FROM pg_statistic WHERE starelid IN "
                "('sentry_message'::regclass, 'sentry_groupedmessage'::regclass)"
            )
    return queryset.explain()


def test_the_seed_query_is_served_by_an_index():
    queryset = GroupedMessage.objects.filter(status=0).order_by("-last_seen")[0:10]
    assert "sentry_group_status_seen" in query_plan(queryset)


def test_the_occurrences_of_a_group_are_served_by_an_index():
    group = make_group()
    queryset = Message.objects.filter(group=group).order_by("-datetime")[:20]
    assert "sentry_message_group_dt" in query_plan(queryset)


def test_str_and_title():
    message_id = client.create_from_text("first line\nsecond line")
    message = Message.objects.get(message_id=message_id)
    assert str(message) == "first line"
    assert str(message.group) == "first line"


def test_absolute_urls_point_at_the_dashboard():
    message_id = client.create_from_text("linked")
    message = Message.objects.get(message_id=message_id)
    assert message.group.get_absolute_url() == f"/sentry/group/{message.group_id}/"
    assert message.get_absolute_url() == (
        f"/sentry/group/{message.group_id}/messages/{message_id}/"
    )


@pytest.mark.django_db(databases=["default", "other"])
@override_settings(
    SENTRY_DATABASE_USING="other", DATABASE_ROUTERS=["sentry.routers.SentryRouter"]
)
def test_database_using_routes_the_tables_to_another_database():
    message_id = client.create_from_text("elsewhere")

    assert Message.objects.using("other").filter(message_id=message_id).exists()
    assert not Message.objects.using("default").exists()
    # The default manager reads from there too.
    assert Message.objects.get(message_id=message_id).message == "elsewhere"
    assert GroupedMessage.objects.filter(status=0).count() == 1


def test_migrations_are_complete():
    call_command("makemigrations", "sentry", "--check", "--dry-run", verbosity=0)


def test_tags_are_counted_per_group():
    client.create_from_text("tagged", tags={"env": "prod"})
    client.create_from_text("tagged", tags={"env": "prod"})
    client.create_from_text("tagged", tags={"env": "staging", "region": "eu"})

    counts = dict(
        MessageFilterValue.objects.filter(key__startswith="tag:").values_list(
            "value", "times_seen"
        )
    )
    assert counts == {"prod": 2, "staging": 1, "eu": 1}
    assert MessageFilterValue.objects.get(value="eu").key == "tag:region"


def test_an_older_occurrence_arriving_late_moves_first_seen_back():
    client.create_from_text("late")
    early = timezone.now() - dt.timedelta(hours=3)
    client.create_from_text("late", datetime=early)

    group = GroupedMessage.objects.get()
    assert group.first_seen == early
    assert group.last_seen > early


@pytest.mark.parametrize(
    "column, index",
    [
        ("score", "sentry_group_proj_score"),
        ("last_seen", "sentry_group_proj_seen"),
        ("first_seen", "sentry_group_proj_first"),
        ("times_seen", "sentry_group_proj_times"),
    ],
)
def test_one_projects_stream_is_served_by_an_index_in_every_sort(column, index):
    # Thousands of groups in ten projects, and the planner told so: with a
    # handful of rows every index costs the same and any may be chosen.
    now = timezone.now()
    for number in range(2, 11):
        make_project(number)
    # Sort values in no relation to where the rows lie, as after a while.
    shuffled = [(n * 7919) % 5000 for n in range(5000)]
    GroupedMessage.objects.bulk_create(
        GroupedMessage(
            project_id=1 + n % 10,
            short_id=n + 1,
            message="m",
            checksum=f"{n:032d}",
            status=int(n % 5 == 0),
            times_seen=shuffled[n],
            first_seen=now - dt.timedelta(minutes=shuffled[n] + 5000),
            last_seen=now - dt.timedelta(minutes=shuffled[-n]),
            score=shuffled[n - 7],
        )
        for n in range(5000)
    )
    queryset = GroupedMessage.objects.filter(project_id=2, status=0).order_by(
        f"-{column}", "-pk"
    )[:51]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sentry_groupedmessage")
            # As for the seed's query: the index that also gives the order.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
    assert index in queryset.explain()
