"""Each project's occurrences per hour: counted as stored, filled in by migrate."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django.utils import timezone

from sentry.client.models import client
from sentry.models import ProjectCountByHour
from tests.ingest_factories import make_project

pytestmark = pytest.mark.django_db


def hour_of(moment):
    return moment.replace(minute=0, second=0, microsecond=0)


@override_settings(SENTRY_THRASHING_LIMIT=0)
def test_occurrences_are_counted_per_project_and_hour():
    make_project(2, slug="shop")
    hour = hour_of(timezone.now())
    earlier = hour - dt.timedelta(hours=3)
    client.create_from_text("a", datetime=hour + dt.timedelta(minutes=1))
    client.create_from_text("b", datetime=hour + dt.timedelta(minutes=2))
    client.create_from_text("a", datetime=earlier + dt.timedelta(minutes=59))
    with override_settings(SENTRY_PROJECT="shop"):
        client.create_from_text("a", datetime=hour)

    counts = set(
        ProjectCountByHour.objects.values_list("project_id", "date", "times_seen")
    )
    assert counts == {(1, hour, 2), (1, earlier, 1), (2, hour, 1)}


@pytest.mark.django_db(transaction=True)
def test_the_migration_sums_the_per_minute_counters_per_project_and_hour():
    executor = MigrationExecutor(connection)
    before = [("sentry", "0015_project_stream_indexes")]
    hour = hour_of(timezone.now()) - dt.timedelta(hours=5)
    try:
        executor.migrate(before)
        make_project(2, slug="shop")
        with connection.cursor() as cursor:
            for group_id, project_id in ((1, 1), (2, 2), (3, 2)):
                cursor.execute(
                    "INSERT INTO sentry_groupedmessage (id, project_id, short_id, "
                    "logger, class_name, level, message, traceback, "
                    f"{connection.ops.quote_name('view')}, checksum, data, status, "
                    "times_seen, first_seen, last_seen, score) VALUES "
                    "(%s, %s, %s, 'root', 'E', 40, 'm', NULL, 'v', %s, NULL, 0, 1, "
                    "%s, %s, 0)",
                    [group_id, project_id, group_id, str(group_id) * 32, hour, hour],
                )
            for group_id, minute, count in [
                (1, 0, 1),
                (1, 59, 2),
                (1, 60, 4),
                (2, 10, 8),
                (3, 20, 16),
            ]:
                cursor.execute(
                    "INSERT INTO sentry_messagecountbyminute (group_id, date, "
                    "times_seen) VALUES (%s, %s, %s)",
                    [group_id, hour + dt.timedelta(minutes=minute), count],
                )
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

        counts = set(
            ProjectCountByHour.objects.values_list("project_id", "date", "times_seen")
        )
        next_hour = hour + dt.timedelta(hours=1)
        assert counts == {(1, hour, 3), (1, next_hour, 4), (2, hour, 24)}

        executor = MigrationExecutor(connection)
        executor.migrate(before)  # and back: the table goes
        assert "sentry_projectcountbyhour" not in connection.introspection.table_names()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
