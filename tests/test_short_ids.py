"""
Short ids: every group has a number in its project, quoted as ``SHOP-12``.

The storage and the ORM number new groups from the project's counter; the
migration numbers the groups there are, by id, and can be unapplied.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone
from django.utils.timezone import now

from sentry import projects
from sentry.models import GroupedMessage, Project, format_short_id
from tests.dashboard_factories import make_group, record_event, staff_client
from tests.ingest_factories import make_project

pytestmark = pytest.mark.django_db

INDEX = reverse("sentry:index")
POLL = reverse("sentry:poll")


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
    # The same error again: the unique (project, logger, view, checksum)
    # constraint refuses it, and the counter moves back with the row.
    again = GroupedMessage(
        message="m", checksum=group.checksum, first_seen=now(), last_seen=now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        again.save()
    assert again.short_id is None
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
    before = [("sentry", "0012_project_settings")]
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


# --- the dashboard ----------------------------------------------------------------


@pytest.fixture
def staff():
    return staff_client()


def test_a_stream_row_shows_the_short_id(staff):
    make_project(2, slug="shop")
    make_group("card declined", project_id=2)

    html = staff.get(INDEX).content.decode()

    assert '<span class="short-id" data-field="short_id">SHOP-1</span>' in html


def test_live_updates_carry_the_short_id(staff):
    make_project(2, slug="shop")
    make_group("a", project_id=2)
    make_group("b", project_id=2)

    rows = staff.get(POLL + "?sort=new").json()["rows"]

    assert [row["short_id"] for row in rows] == ["SHOP-2", "SHOP-1"]


def test_the_group_page_shows_the_short_id(staff):
    make_project(2, slug="billing")
    group = make_group("invoice lost", project_id=2)

    html = staff.get(group.get_absolute_url()).content.decode()

    assert '<p class="short-id">BILLING-1</p>' in html


@pytest.mark.parametrize("query", ["SHOP-2", "shop-2", " Shop-2 "])
def test_searching_a_short_id_opens_its_group(staff, query):
    make_project(2, slug="shop")
    make_group("a", project_id=2)
    group = make_group("b", project_id=2)
    make_group("c")  # DEFAULT-1

    response = staff.get(INDEX, {"q": query})

    assert response.status_code == 302
    assert response["Location"] == group.get_absolute_url()


def test_the_search_box_finds_a_short_id(staff):
    make_project(2, slug="shop-web")
    group = make_group("a", project_id=2)

    response = staff.get(reverse("sentry:search"), {"q": "SHOP-WEB-1"}, follow=True)

    assert response.redirect_chain[-1][0] == group.get_absolute_url()


@pytest.mark.parametrize(
    "query", ["SHOP-3", "NOPE-1", "SHOP-0", "SHOP-99999999999", "SHOP-2147483648"]
)
def test_a_short_id_that_names_no_group_searches_the_text(staff, query):
    make_project(2, slug="shop")
    make_group(f"failed at {query}", project_id=2)

    response = staff.get(INDEX, {"q": query})

    assert response.status_code == 200
    assert [g.message for g in response.context["rows"]] == [f"failed at {query}"]


def test_searching_a_short_id_respects_the_visible_groups(staff, monkeypatch):
    make_project(2, slug="shop")
    make_group("hidden", project_id=2)
    monkeypatch.setattr(
        projects, "visible_groups", lambda groups, user: groups.exclude(project_id=2)
    )

    response = staff.get(INDEX, {"q": "SHOP-1"})

    assert response.status_code == 200


def test_the_stream_still_runs_its_queries_with_short_ids(
    staff, django_assert_num_queries
):
    make_project(2, slug="shop")
    for n in range(5):
        make_group(f"error {n}", project_id=2 if n % 2 else 1)

    # session, user, 4 filter choices, the environments, the page, the
    # sparklines, the projects of the header's switcher.
    with django_assert_num_queries(10):
        response = staff.get(INDEX)
    assert len(response.context["rows"]) == 5
    assert "SHOP-2" in response.content.decode()
