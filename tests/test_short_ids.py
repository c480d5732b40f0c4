"""
Short ids: every group has a number in its project, quoted as ``SHOP-12``.

The storage and the ORM number new groups from the project's counter; the
migration numbers the groups there are, by id, and can be unapplied.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from sentry.models import GroupedMessage, Project, format_short_id
from tests.dashboard_factories import make_group, record_event
from tests.ingest_factories import make_project

pytestmark = pytest.mark.django_db


def test_stored_groups_are_numbered_from_one_in_each_project():
    make_project(2, slug="shop")
    first = record_event("payment refused").group
    shop_first = record_event("basket lost", project=2).group
    second = record_event("queue stalled").group
    shop_second = record_event("stock missing", project=2).group

    assert (first.short_id, second.short_id) == (1, 2)
    assert (shop_first.short_id, shop_second.short_id) == (1, 2)
    assert Project.objects.get(pk=2).last_short_id == 2
    assert Project.objects.get(pk=1).last_short_id == 2


def test_another_occurrence_keeps_its_group_s_number():
    group = record_event("payment refused").group
    record_event("queue stalled")
    again = record_event("payment refused").group
    assert (again.pk, again.short_id, again.times_seen) == (group.pk, 1, 2)
    assert Project.objects.get(pk=1).last_short_id == 2


def test_the_qualified_short_id_is_the_upper_cased_slug_and_the_number():
    make_project(2, slug="shop-web")
    for _ in range(12):
        group = make_group(project_id=2)
    assert group.qualified_short_id == "SHOP-WEB-12"
    assert format_short_id("billing", 3) == "BILLING-3"


def test_groups_made_with_the_orm_are_numbered_too():
    groups = [make_group(f"error {n}") for n in range(3)]
    assert [g.short_id for g in groups] == [1, 2, 3]
    groups[0].message = "changed"
    groups[0].save()
    groups[0].refresh_from_db()
    assert groups[0].short_id == 1
    assert Project.objects.get(pk=1).last_short_id == 3


def test_two_groups_of_a_project_cannot_share_a_number():
    group = make_group()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_group(short_id=group.short_id)


def test_a_group_of_a_missing_project_is_refused():
    with pytest.raises(Project.DoesNotExist):
        make_group(project_id=999)


def test_a_group_that_fails_to_insert_gives_its_number_back():
    group = make_group()
    with pytest.raises(IntegrityError), transaction.atomic():
        # The same error again: the unique (project, logger, view, checksum)
        # constraint refuses it, and the counter moves back with the row.
        make_group(checksum=group.checksum)
    assert Project.objects.get(pk=1).last_short_id == 1
    assert make_group().short_id == 2


# --- the migration -------------------------------------------------------------


def insert_group(cursor, project_id, checksum, now):
    quote = connection.ops.quote_name
    cursor.execute(
        "INSERT INTO sentry_groupedmessage (project_id, logger, class_name, level, "
        f"message, traceback, {quote('view')}, checksum, data, status, "
        "times_seen, first_seen, last_seen, score) VALUES "
        "(%s, 'root', 'E', 40, 'm', NULL, 'v', %s, NULL, 0, 1, %s, %s, 0)",
        [project_id, checksum, now, now],
    )


@pytest.mark.django_db(transaction=True)
def test_the_migration_numbers_existing_groups_by_id_and_back():
    executor = MigrationExecutor(connection)
    before = [("sentry", "0011_project_foreign_keys")]
    now = timezone.now()
    try:
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO sentry_project (id, name, slug, platform, date_added) "
                "VALUES (2, 'Shop', 'shop', '', %s), (3, 'Idle', 'idle', '', %s)",
                [now, now],
            )
            # Interleaved: numbering follows the id within each project.
            for n, project_id in enumerate([2, 1, 2, 2, 1]):
                insert_group(cursor, project_id, f"{n:032d}", now)
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

        numbers = list(
            GroupedMessage.objects.order_by("id").values_list("project_id", "short_id")
        )
        assert numbers == [(2, 1), (1, 1), (2, 2), (2, 3), (1, 2)]
        counters = dict(Project.objects.values_list("slug", "last_short_id"))
        assert counters == {"default": 2, "shop": 3, "idle": 0}
        assert make_group(project_id=2).short_id == 4

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM sentry_groupedmessage")
            assert cursor.fetchone() == (6,)
            columns = [
                c.name
                for c in connection.introspection.get_table_description(
                    cursor, "sentry_groupedmessage"
                )
            ]
            assert "short_id" not in columns
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
