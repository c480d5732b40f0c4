"""The stream's filter choices per project: stored, offered, cleaned up, migrated."""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from sentry.client.models import client
from sentry.models import FilterValue
from tests.dashboard_factories import make_group, seen_with, staff_client
from tests.ingest_factories import make_project

pytestmark = pytest.mark.django_db

INDEX = reverse("sentry:index")
#: The filters whose choices come from FilterValue.
VALUE_FILTERS = ("server_name", "site", "logger", "level")


def choices(browser, query=""):
    response = browser.get(INDEX + query)
    assert response.status_code == 200
    return {
        f["column"]: set(f["choices"])
        for f in response.context["filters"]
        if f["column"] in VALUE_FILTERS
    }


@pytest.fixture
def ledger():
    return Group.objects.create(name="ledger")


@pytest.fixture
def services(ledger):
    """Project 1 (open) and a ledger project restricted to the ledger team."""
    secret = make_project(2, name="Ledger", slug="ledger")
    secret.member_groups.add(ledger)
    make_project(3, name="Shop", slug="shop")
    with override_settings(SENTRY_SITE="www"):
        client.create_from_text("open", server_name="web-1", logger="shop.cart")
    with override_settings(SENTRY_PROJECT="ledger", SENTRY_SITE="books"):
        client.create_from_text(
            "secret", server_name="vault-7", logger="ledger.audit", level=50
        )
    with override_settings(SENTRY_PROJECT="shop", SENTRY_SITE="www"):
        client.create_from_text("shop", server_name="web-2", logger="shop.cart")
    return secret


def member_of(team):
    browser = staff_client("member")
    get_user_model().objects.get(username="member").groups.add(team)
    return browser


def superuser():
    user = get_user_model().objects.create_superuser("root", "r@example.com", "pw")
    browser = Client()
    browser.force_login(user)
    return browser


# --- stored per project -------------------------------------------------------


@override_settings(SENTRY_THRASHING_LIMIT=0)
def test_values_are_stored_with_the_project_of_the_event():
    make_project(2, slug="shop")
    client.create_from_text("a", server_name="web-1", logger="cart")
    with override_settings(SENTRY_PROJECT="shop"):
        client.create_from_text("b", server_name="web-1", logger="pay")
        client.create_from_text("c", server_name="web-1", logger="pay")

    rows = set(
        FilterValue.objects.filter(key__in=("server_name", "logger")).values_list(
            "project_id", "key", "value"
        )
    )
    assert rows == {
        (1, "server_name", "web-1"),
        (1, "logger", "cart"),
        (2, "server_name", "web-1"),
        (2, "logger", "pay"),
    }


# --- offered to those who may see the project ---------------------------------


def test_a_restricted_projects_values_are_not_offered_to_a_non_member(services):
    offered = choices(staff_client("outsider"))

    assert offered["server_name"] == {"web-1", "web-2"}
    assert offered["site"] == {"www"}
    assert offered["logger"] == {"shop.cart"}
    assert "50" not in offered["level"]


def test_a_restricted_projects_values_are_offered_to_its_members(services, ledger):
    offered = choices(member_of(ledger))

    assert offered["server_name"] == {"web-1", "web-2", "vault-7"}
    assert offered["site"] == {"www", "books"}
    assert offered["logger"] == {"shop.cart", "ledger.audit"}
    assert "50" in offered["level"]


def test_a_superuser_is_offered_every_projects_values(services):
    offered = choices(superuser())

    assert offered["server_name"] == {"web-1", "web-2", "vault-7"}
    assert offered["site"] == {"www", "books"}
    assert offered["logger"] == {"shop.cart", "ledger.audit"}


def test_a_value_of_several_projects_is_offered_once(services, ledger):
    response = member_of(ledger).get(INDEX)

    filters = {f["column"]: f for f in response.context["filters"]}
    assert list(filters["logger"]["choices"]) == ["ledger.audit", "shop.cart"]
    assert response.content.decode().count('<option value="shop.cart"') == 1


def test_one_projects_stream_offers_that_projects_values(services, ledger):
    assert choices(superuser(), "?project=shop")["server_name"] == {"web-2"}
    assert choices(member_of(ledger), "?project=ledger")["logger"] == {"ledger.audit"}


def test_a_hidden_projects_stream_offers_nothing(services):
    offered = choices(staff_client("outsider"), "?project=ledger")

    assert offered["server_name"] == set()
    assert offered["logger"] == set()


def test_a_slug_no_project_can_have_offers_nothing(services):
    assert choices(superuser(), "?project=no%20such")["server_name"] == set()


def test_the_newest_distinct_values_are_offered_up_to_the_cap(ledger):
    secret = make_project(2, slug="ledger")
    secret.member_groups.add(ledger)
    FilterValue.objects.bulk_create(
        FilterValue(project_id=project_id, key="server_name", value=f"old-{index:03d}")
        for index in range(150)
        for project_id in (1, 2)
    )
    FilterValue.objects.bulk_create(
        FilterValue(project_id=2, key="server_name", value=f"secret-{index:03d}")
        for index in range(150)
    )

    response = staff_client("outsider").get(INDEX)

    server = {f["column"]: f for f in response.context["filters"]}["server_name"]
    # The newest 101 distinct values (one more than offered says "more"),
    # none of the hidden project's, none twice.
    assert server["more"]
    assert len(server["choices"]) == 100
    assert set(server["choices"]) < {f"old-{index:03d}" for index in range(49, 150)}


def test_values_every_project_shares_are_offered_up_to_the_cap():
    # Twenty projects, the same 150 servers each: the newest rows read
    # (max_rows_read) still hold more distinct values than are offered.
    for project_id in range(2, 21):
        make_project(project_id)
    FilterValue.objects.bulk_create(
        FilterValue(project_id=project_id, key="server_name", value=f"web-{index:03d}")
        for index in range(150)
        for project_id in range(1, 21)
    )

    response = staff_client("outsider").get(INDEX)

    server = {f["column"]: f for f in response.context["filters"]}["server_name"]
    assert server["more"]
    assert len(server["choices"]) == 100


# --- cleaned up per project ------------------------------------------------------


def test_cleanup_deletes_a_value_no_group_of_its_project_sees_any_more():
    make_project(2, slug="shop")
    now = timezone.now()
    kept = make_group("kept", project_id=2, first_seen=now, last_seen=now)
    seen_with(kept, "server_name", "web-1")
    FilterValue.objects.create(project_id=1, key="server_name", value="web-1")
    FilterValue.objects.create(project_id=2, key="server_name", value="gone")

    call_command("cleanup_sentry", stdout=StringIO())

    rows = set(FilterValue.objects.values_list("project_id", "key", "value"))
    assert rows == {(2, "server_name", "web-1")}


# --- the migration ---------------------------------------------------------------


def insert_group(cursor, group_id, project_id, when):
    cursor.execute(
        "INSERT INTO sentry_groupedmessage (id, project_id, short_id, "
        "logger, class_name, level, message, traceback, "
        f"{connection.ops.quote_name('view')}, checksum, data, status, "
        "times_seen, first_seen, last_seen, score) VALUES "
        "(%s, %s, %s, 'root', 'E', 40, 'm', NULL, 'v', %s, NULL, 0, 1, "
        "%s, %s, 0)",
        [group_id, project_id, group_id, str(group_id) * 32, when, when],
    )


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_each_value_the_projects_that_saw_it_and_back():
    executor = MigrationExecutor(connection)
    before = [("sentry", "0016_project_hourly_counts")]
    now = timezone.now() - dt.timedelta(hours=1)
    quote = connection.ops.quote_name
    try:
        executor.migrate(before)
        make_project(2, slug="ledger")
        make_project(3, slug="shop")
        with connection.cursor() as cursor:
            for group_id, project_id in ((1, 1), (2, 2), (3, 3), (4, 3)):
                insert_group(cursor, group_id, project_id, now)
            for key, value in [
                ("server_name", "web-1"),  # projects 1 and 3
                ("server_name", "vault-7"),  # project 2 only
                ("logger", "cart"),  # project 3, twice
                ("logger", "nobody"),  # no group any more
            ]:
                cursor.execute(
                    "INSERT INTO sentry_filtervalue "
                    f"({quote('key')}, {quote('value')}) VALUES (%s, %s)",
                    [key, value],
                )
            for group_id, key, value in [
                (1, "server_name", "web-1"),
                (3, "server_name", "web-1"),
                (2, "server_name", "vault-7"),
                (3, "logger", "cart"),
                (4, "logger", "cart"),
            ]:
                cursor.execute(
                    "INSERT INTO sentry_messagefiltervalue (group_id, "
                    f"{quote('key')}, {quote('value')}, times_seen, first_seen, "
                    "last_seen) VALUES (%s, %s, %s, 1, %s, %s)",
                    [group_id, key, value, now, now],
                )
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

        rows = sorted(FilterValue.objects.values_list("project_id", "key", "value"))
        assert rows == [
            (1, "logger", "nobody"),
            (1, "server_name", "web-1"),
            (2, "server_name", "vault-7"),
            (3, "logger", "cart"),
            (3, "server_name", "web-1"),
        ]

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('key')}, {quote('value')} FROM sentry_filtervalue"
            )
            assert sorted(cursor.fetchall()) == [
                ("logger", "cart"),
                ("logger", "nobody"),
                ("server_name", "vault-7"),
                ("server_name", "web-1"),
            ]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
