"""
Projects: each service's errors in groups of its own.

A client key files events under its project and nowhere else; the site's
own errors go to ``SENTRY_PROJECT`` (project 1 by default); the same error in
two projects is two groups; ``migrate`` makes project 1 and moves what
exists there (and back).
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.core import checks, mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory, override_settings
from django.utils import timezone

from sentry import notifications, packing
from sentry.client.models import client
from sentry.models import (
    DEFAULT_PROJECT_ID,
    GroupedMessage,
    Message,
    Project,
    ProjectKey,
)
from sentry.projects import (
    default_project_id,
    visible_groups,
    visible_occurrences,
    visible_projects,
)
from tests.factories import raise_and_capture
from tests.ingest_factories import (
    event_envelope,
    exception_event,
    make_key,
    make_project,
    post_envelope,
)

pytestmark = pytest.mark.django_db


# --- project 1 -----------------------------------------------------------------


def test_project_one_is_there_after_migrate():
    project = Project.objects.get(pk=DEFAULT_PROJECT_ID)
    assert str(project) == project.name == "default"
    assert project.slug == "default"


def test_projects_made_later_get_new_ids():
    made = Project.objects.create(name="Billing", slug="billing")
    assert made.pk != DEFAULT_PROJECT_ID
    assert Project.objects.create(name="Web", slug="web").pk not in (
        DEFAULT_PROJECT_ID,
        made.pk,
    )


def test_the_site_s_own_errors_go_to_project_one():
    client.create_from_text("queue stalled")
    assert GroupedMessage.objects.get().project_id == DEFAULT_PROJECT_ID


# --- SENTRY_PROJECT ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["id", "id as text", "slug"])
def test_sentry_project_names_the_project_of_the_site_s_own_errors(name):
    project = make_project(9, slug="shop")
    value = {"id": 9, "id as text": "9", "slug": "shop"}[name]
    with override_settings(SENTRY_PROJECT=value):
        client.create_from_text("basket lost")
        raise_and_capture(ValueError("payment refused"))
    assert {g.project_id for g in GroupedMessage.objects.all()} == {project.pk}
    assert GroupedMessage.objects.count() == 2


def test_a_sentry_project_that_names_no_project_loses_nothing(caplog):
    with override_settings(SENTRY_PROJECT="no-such-project"):
        client.create_from_text("basket lost")
    assert GroupedMessage.objects.get().project_id == DEFAULT_PROJECT_ID
    assert "names no project" in caplog.text


def test_a_renamed_project_is_noticed_at_once():
    project = make_project(9, slug="shop")
    with override_settings(SENTRY_PROJECT="shop"):
        assert default_project_id() == 9
        project.slug = "store"
        project.save()
        assert default_project_id() == DEFAULT_PROJECT_ID


@pytest.mark.parametrize("value", [True, -1, 2.5, None, ["shop"]])
def test_a_sentry_project_that_cannot_name_one_fails_the_check(value):
    with override_settings(SENTRY_PROJECT=value):
        errors = [e for e in checks.run_checks(databases=[]) if e.id == "sentry.E019"]
    assert len(errors) == 1


def test_a_valid_sentry_project_passes_the_check():
    with override_settings(SENTRY_PROJECT="shop"):
        assert not [e for e in checks.run_checks(databases=[]) if e.id == "sentry.E019"]


# --- keys file under their project ---------------------------------------------


def test_the_same_error_in_two_projects_is_two_groups(client):
    shop = make_key(label="shop", project_id=2)
    billing = make_key(label="billing", project_id=3)
    event = exception_event()
    for n, key in enumerate((shop, billing)):
        again = dict(event, event_id=f"{n}" * 32)
        response = post_envelope(
            client, event_envelope(again), key, project_id=key.project_id
        )
        assert response.status_code == 200, response.content

    groups = GroupedMessage.objects.order_by("project_id")
    assert [g.project_id for g in groups] == [2, 3]
    assert groups[0].checksum == groups[1].checksum
    assert [m.group.project_id for m in Message.objects.order_by("group__project")] == [
        2,
        3,
    ]


def test_a_key_cannot_file_into_another_project_s_group(client, settings):
    """
    A browser key sending the very event of another project's group (same
    logger, culprit, stack and fingerprint) makes a group of its own project:
    the other group is not counted, not reopened, and nobody is mailed about
    a regression.
    """
    settings.SENTRY_ADMINS = ["ops@example.com"]
    settings.SENTRY_URL_PREFIX = "https://errors.example.com"
    server = make_key(label="server", project_id=DEFAULT_PROJECT_ID)
    browser = make_key(label="frontend", project_id=5)
    event = exception_event(fingerprint=["checkout", "card"])
    response = post_envelope(
        client, event_envelope(event), server, project_id=DEFAULT_PROJECT_ID
    )
    assert response.status_code == 200
    own = GroupedMessage.objects.get()
    GroupedMessage.objects.filter(pk=own.pk).update(
        status=GroupedMessage.STATUS_RESOLVED
    )
    assert notifications.flush()
    mail.outbox.clear()

    forged = dict(event, event_id="f" * 32)
    response = post_envelope(client, event_envelope(forged), browser, project_id=5)
    assert response.status_code == 200

    own.refresh_from_db()
    assert own.project_id == DEFAULT_PROJECT_ID
    assert own.status == GroupedMessage.STATUS_RESOLVED
    assert own.times_seen == 1
    assert own.message_set.count() == 1
    other = GroupedMessage.objects.exclude(pk=own.pk).get()
    assert (other.project_id, other.checksum) == (5, own.checksum)
    assert notifications.flush()
    assert [m.subject for m in mail.outbox if "Regression" in m.subject] == []
    assert len(mail.outbox) == 1  # the new group of project 5


def test_a_key_used_with_another_project_s_number_is_refused(client):
    key = make_key(project_id=2)
    make_project(3)
    response = post_envelope(
        client, event_envelope(exception_event()), key, project_id=3
    )
    assert response.status_code in (401, 403)
    assert not GroupedMessage.objects.exists()


def test_the_flood_guard_counts_per_project(client, settings):
    settings.SENTRY_THRASHING_LIMIT = 1
    settings.SENTRY_THRASHING_TIMEOUT = 60
    one, two = make_key(project_id=2), make_key(label="b", project_id=3)
    for n, key in enumerate((one, two)):
        event = exception_event(event_id=f"{n}" * 32)
        response = post_envelope(
            client, event_envelope(event), key, project_id=key.project_id
        )
        assert response.status_code == 200
    # The first occurrence of each project's group is stored, not held back.
    assert Message.objects.count() == 2


def test_the_queued_client_keeps_the_project(settings):
    settings.SENTRY_CLIENT = "sentry.client.queued.QueuedSentryClient"
    make_project(9, slug="shop")
    settings.SENTRY_PROJECT = "shop"
    from sentry.client.models import get_client

    get_client().create_from_text("basket lost")
    from sentry.digest import drain

    drain(steal=True)
    assert GroupedMessage.objects.get().project_id == 9


# --- the classic API spans all projects ------------------------------------------


def test_the_classic_queries_span_every_project(client):
    client_key = make_key(project_id=2)
    post_envelope(client, event_envelope(exception_event()), client_key, project_id=2)
    from sentry.client.models import get_client

    get_client().create_from_text("queue stalled")
    latest = GroupedMessage.objects.filter(status=0).order_by("-last_seen")[0:10]
    assert {g.project_id for g in latest} == {DEFAULT_PROJECT_ID, 2}


def test_groups_made_without_a_project_are_the_site_s_own():
    now = timezone.now()
    group = GroupedMessage.objects.create(
        message="m", checksum="c" * 32, first_seen=now, last_seen=now
    )
    assert group.project == Project.objects.get(pk=DEFAULT_PROJECT_ID)


# --- admin -------------------------------------------------------------------


def test_project_one_cannot_be_deleted_in_the_admin(admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    model_admin = admin.site._registry[Project]
    assert not model_admin.has_delete_permission(
        request, Project.objects.get(pk=DEFAULT_PROJECT_ID)
    )
    assert model_admin.has_delete_permission(request, make_project(4))


def test_deleting_a_project_deletes_its_groups_keys_and_dictionaries(
    admin_client, client
):
    key = make_key(project_id=4)
    post_envelope(client, event_envelope(exception_event()), key, project_id=4)
    from sentry.client.models import get_client

    get_client().create_from_text("queue stalled")
    assert packing.CompressionDictionary.objects.filter(project_id=4).exists()

    response = admin_client.post("/admin/sentry/project/4/delete/", {"post": "yes"})
    assert response.status_code == 302

    assert not Project.objects.filter(pk=4).exists()
    assert not ProjectKey.objects.exists()
    assert list(GroupedMessage.objects.values_list("project_id", flat=True)) == [1]
    assert not packing.CompressionDictionary.objects.filter(project_id=4).exists()


def test_the_admin_makes_projects(admin_client):
    response = admin_client.post(
        "/admin/sentry/project/add/",
        {"name": "Billing worker", "slug": "billing", "platform": "python"},
    )
    assert response.status_code == 302
    assert Project.objects.get(slug="billing").name == "Billing worker"


def test_the_admin_edits_a_projects_rate_limit_and_retention(admin_client):
    make_project(4, name="Billing worker", slug="billing")
    fields = {"name": "Billing worker", "slug": "billing", "platform": ""}

    response = admin_client.post(
        "/admin/sentry/project/4/change/",
        {**fields, "rate_limit": "300", "retention_days": "14"},
    )

    assert response.status_code == 302
    project = Project.objects.get(pk=4)
    assert (project.rate_limit, project.retention_days) == (300, 14)
    listing = admin_client.get("/admin/sentry/project/").content.decode()
    assert '<td class="field-rate_limit">300</td>' in listing


@pytest.mark.parametrize(
    ("field", "value"),
    [("retention_days", "36501"), ("retention_days", "0"), ("rate_limit", "0")],
)
def test_the_admin_refuses_limits_out_of_range(admin_client, field, value):
    make_project(4, name="Billing worker", slug="billing")

    response = admin_client.post(
        "/admin/sentry/project/4/change/",
        {"name": "Billing worker", "slug": "billing", field: value},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    assert getattr(Project.objects.get(pk=4), field) is None


# --- the migration -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@override_settings(SENTRY_SITE="Shop")
def test_the_migration_moves_everything_to_its_project_and_back():
    executor = MigrationExecutor(connection)
    before = [("sentry", "0009_sourcemaps")]
    now = timezone.now()
    try:
        executor.migrate(before)
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO sentry_projectkey (public_key, secret_key, label, "
                "project_id, is_active, date_added) VALUES "
                "(%s, '', 'web', 1, %s, %s), (%s, '', 'billing', 42, %s, %s)",
                ["a" * 32, True, now, "b" * 32, True, now],
            )
            cursor.execute(
                "INSERT INTO sentry_groupedmessage (logger, class_name, level, "
                f"message, traceback, {quote('view')}, checksum, data, status, "
                "times_seen, first_seen, last_seen, score) VALUES "
                "('root', 'E', 40, 'm', NULL, 'v', %s, NULL, 0, 1, %s, %s, 0)",
                ["c" * 32, now, now],
            )
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

        shop = Project.objects.get(pk=DEFAULT_PROJECT_ID)
        assert (shop.name, shop.slug) == ("Shop", "shop")
        assert Project.objects.get(pk=42).slug == "project-42"
        assert GroupedMessage.objects.get().project_id == DEFAULT_PROJECT_ID
        keys = dict(ProjectKey.objects.values_list("label", "project_id"))
        assert keys == {"web": 1, "billing": 42}
        # The sequence moved past the ids given.
        assert Project.objects.create(name="New", slug="new").pk > 42

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute("SELECT label, project_id FROM sentry_projectkey")
            assert dict(cursor.fetchall()) == {"web": 1, "billing": 42}
            cursor.execute("SELECT checksum FROM sentry_groupedmessage")
            assert cursor.fetchall() == [("c" * 32,)]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_unapplying_refuses_to_merge_two_projects_groups():
    now = timezone.now()
    make_project(2)
    for project_id in (1, 2):
        GroupedMessage.objects.create(
            project_id=project_id,
            message="m",
            checksum="c" * 32,
            first_seen=now,
            last_seen=now,
        )
    executor = MigrationExecutor(connection)
    with pytest.raises(RuntimeError, match="more than one project"):
        executor.migrate([("sentry", "0010_projects")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert GroupedMessage.objects.count() == 2


# --- who sees a project ----------------------------------------------------------


def restricted_project(project_id, *groups, **fields):
    project = make_project(project_id, **fields)
    project.member_groups.add(*groups)
    return project


def visible_ids(user):
    return set(visible_projects(user).values_list("pk", flat=True))


@pytest.fixture
def teams():
    from django.contrib.auth.models import Group

    return Group.objects.create(name="ledger"), Group.objects.create(name="shop")


def test_every_project_is_visible_until_it_is_restricted(django_user_model):
    make_project(2)
    staff = django_user_model.objects.create_user("staff", is_staff=True)

    assert visible_ids(staff) == {1, 2}
    assert visible_ids(AnonymousUser()) == {1, 2}


def test_a_restricted_project_is_visible_to_its_members_and_superusers(
    django_user_model, teams
):
    ledger, shop = teams
    restricted_project(2, ledger)
    restricted_project(3, ledger, shop)
    member = django_user_model.objects.create_user("m", is_staff=True)
    member.groups.add(ledger, shop)
    shopper = django_user_model.objects.create_user("s", is_staff=True)
    shopper.groups.add(shop)
    outsider = django_user_model.objects.create_user("o", is_staff=True)
    root = django_user_model.objects.create_superuser("root", "r@example.com", "pw")

    # A member of two of a project's groups sees it once.
    listed = visible_projects(member).order_by("pk").values_list("pk", flat=True)
    assert list(listed) == [1, 2, 3]
    assert visible_ids(shopper) == {1, 3}
    assert visible_ids(outsider) == {1}
    assert visible_ids(AnonymousUser()) == {1}
    assert visible_ids(root) == {1, 2, 3}


def test_an_inactive_superuser_sees_no_restricted_project(django_user_model, teams):
    restricted_project(2, teams[0])
    root = django_user_model.objects.create_superuser("root", "r@example.com", "pw")
    root.is_active = False

    assert visible_ids(root) == {1}


def test_groups_and_occurrences_are_narrowed_to_visible_projects(
    django_user_model, teams
):
    from tests.dashboard_factories import make_group, make_message

    secret = restricted_project(2, teams[0])
    open_group = make_group("open")
    secret_group = make_group("secret", project=secret)
    make_message(open_group)
    make_message(secret_group)
    outsider = django_user_model.objects.create_user("o", is_staff=True)
    member = django_user_model.objects.create_user("m", is_staff=True)
    member.groups.add(teams[0])

    def seen(user):
        groups = visible_groups(GroupedMessage.objects.all(), user)
        occurrences = visible_occurrences(Message.objects.all(), user)
        return (
            set(groups.values_list("message", flat=True)),
            set(occurrences.values_list("message", flat=True)),
        )

    assert seen(outsider) == ({"open"}, {"open"})
    assert seen(member) == ({"open", "secret"}, {"open", "secret"})


def test_narrowing_runs_no_query_of_its_own(
    django_user_model, teams, django_assert_num_queries
):
    restricted_project(2, teams[0])
    member = django_user_model.objects.create_user("m", is_staff=True)
    member.groups.add(teams[0])

    with django_assert_num_queries(0):
        groups = visible_groups(GroupedMessage.objects.all(), member)
        occurrences = visible_occurrences(Message.objects.all(), member)
    # One query each, whatever the number of projects and groups: subqueries.
    with django_assert_num_queries(1):
        list(groups)
    with django_assert_num_queries(1):
        list(occurrences)


def test_the_admin_chooses_a_project_s_member_groups(admin_client, teams):
    form = admin_client.get("/admin/sentry/project/1/change/").content.decode()
    assert 'name="member_groups"' in form
    assert "selectfilter" in form  # filter_horizontal

    response = admin_client.post(
        "/admin/sentry/project/1/change/",
        {
            "name": "Shop",
            "slug": "shop",
            "platform": "",
            "member_groups": [teams[1].pk],
        },
    )

    assert response.status_code == 302
    assert list(Project.objects.get(pk=1).member_groups.all()) == [teams[1]]


@pytest.mark.django_db(databases=["default", "other"])
@override_settings(
    SENTRY_DATABASE_USING="other", DATABASE_ROUTERS=["sentry.routers.SentryRouter"]
)
def test_member_groups_are_read_from_the_auth_database(
    django_user_model, teams, django_assert_num_queries
):
    # The app's tables in a database of their own: the user's auth groups
    # are read where they live (one query), not joined in the app's database.
    ledger, _ = teams
    secret = Project.objects.create(name="Ledger", slug="ledger")
    memberships = Project.member_groups.through.objects.using("other")
    memberships.create(project_id=secret.pk, group_id=ledger.pk)
    member = django_user_model.objects.create_user("m", is_staff=True)
    member.groups.add(ledger)
    outsider = django_user_model.objects.create_user("o", is_staff=True)

    try:
        with django_assert_num_queries(1, using="default"):
            projects = visible_projects(member)
        assert set(projects.values_list("slug", flat=True)) == {"ledger", "default"}
        assert not visible_projects(outsider).filter(pk=secret.pk).exists()
    finally:
        # That database's own auth_group is empty: the row would fail the
        # foreign key check made when the test ends.
        memberships.all().delete()
