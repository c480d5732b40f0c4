"""Resolve and unresolve: one error or many, by form or by script, POST only."""

import pytest
from django.test import Client
from django.urls import reverse

from sentry.models import GroupActivity, GroupedMessage
from tests.dashboard_factories import make_group, staff_client

pytestmark = pytest.mark.django_db

RESOLVED = GroupedMessage.STATUS_RESOLVED
UNRESOLVED = GroupedMessage.STATUS_UNRESOLVED
BULK = reverse("sentry:bulk")


@pytest.fixture
def staff():
    return staff_client()


def status_of(group):
    group.refresh_from_db()
    return group.status


def test_resolve_needs_a_post(staff):
    group = make_group("x")

    response = staff.get(reverse("sentry:resolve", args=[group.pk]))

    assert response.status_code == 405
    assert status_of(group) == UNRESOLVED


def test_resolve_and_unresolve_redirect_to_the_group_page(staff):
    group = make_group("x")

    response = staff.post(reverse("sentry:resolve", args=[group.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("sentry:group", args=[group.pk])
    assert status_of(group) == RESOLVED
    assert group.resolved_at is not None

    staff.post(reverse("sentry:unresolve", args=[group.pk]))
    assert status_of(group) == UNRESOLVED
    assert group.resolved_at is None

    # The classic spelling: resolve/ with unresolve=1.
    staff.post(reverse("sentry:resolve", args=[group.pk]))
    staff.post(reverse("sentry:resolve", args=[group.pk]), {"unresolve": "1"})
    assert status_of(group) == UNRESOLVED


def test_resolve_goes_back_to_the_page_it_came_from(staff):
    group = make_group("x")
    url = reverse("sentry:resolve", args=[group.pk])

    response = staff.post(url, {"next": "/sentry/?sort=date"})

    assert response["Location"] == "/sentry/?sort=date"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        # Not paths: redirect() once took these for view names (a 500).
        "index",
        "1 ",
        "1\x00",
    ],
)
def test_resolve_never_redirects_off_site_nor_to_anything_but_a_path(staff, next_url):
    group = make_group("x")

    response = staff.post(
        reverse("sentry:resolve", args=[group.pk]), {"next": next_url}
    )

    assert response["Location"] == reverse("sentry:group", args=[group.pk])


def test_scripts_get_json(staff):
    group = make_group("x")

    response = staff.post(
        reverse("sentry:resolve", args=[group.pk]),
        headers={"Accept": "application/json"},
    )

    assert response.json() == {
        "id": group.pk,
        "status": RESOLVED,
        "status_label": "Resolved",
        "resolved": True,
    }


def test_resolve_is_protected_against_csrf(django_user_model):
    group = make_group("x")
    user = django_user_model.objects.create_user("s2", password="pw", is_staff=True)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    response = browser.post(reverse("sentry:resolve", args=[group.pk]))

    assert response.status_code == 403
    assert status_of(group) == UNRESOLVED


def test_resolve_with_the_pages_csrf_token_works(django_user_model):
    group = make_group("x")
    user = django_user_model.objects.create_user("s3", password="pw", is_staff=True)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    page = browser.get(reverse("sentry:group", args=[group.pk]))
    token = page.context["csrf_token"]

    response = browser.post(
        reverse("sentry:resolve", args=[group.pk]), {"csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    assert status_of(group) == RESOLVED


def test_unknown_groups_are_not_found(staff):
    assert staff.post(reverse("sentry:resolve", args=[404])).status_code == 404


def test_bulk_resolves_the_selected_rows(staff):
    one, two, three = make_group("1"), make_group("2"), make_group("3")

    response = staff.post(
        BULK, {"op": "resolve-selected", "ids": [one.pk, three.pk, "x"]}
    )

    assert response.status_code == 302
    assert [status_of(g) for g in (one, two, three)] == [RESOLVED, UNRESOLVED, RESOLVED]
    staff.post(BULK, {"op": "unresolve-selected", "ids": [one.pk]})
    assert status_of(one) == UNRESOLVED


def test_bulk_resolves_every_row_matching_the_filters(staff):
    shop = [make_group(f"shop {i}", logger="shop") for i in range(3)]
    mail = make_group("mail", logger="mail")
    warning = make_group("shop warning", logger="shop", level=30)

    response = staff.post(BULK + "?logger=shop&level=40", {"op": "resolve-all"})

    assert response.status_code == 302
    assert response["Location"] == reverse("sentry:index") + "?logger=shop&level=40"
    assert [status_of(g) for g in shop] == [RESOLVED] * 3
    assert status_of(mail) == UNRESOLVED
    assert status_of(warning) == UNRESOLVED


def test_bulk_unresolves_every_resolved_row_matching(staff):
    fixed = make_group("fixed", status=RESOLVED)
    open_ = make_group("open")

    response = staff.post(
        BULK + "?status=1",
        {"op": "unresolve-all"},
        headers={"Accept": "application/json"},
    )

    assert response.json() == {"updated": 1, "status": UNRESOLVED}
    assert status_of(fixed) == UNRESOLVED
    assert status_of(open_) == UNRESOLVED


def test_bulk_runs_one_update_and_one_history_insert(staff, django_assert_num_queries):
    for index in range(20):
        make_group(f"g{index}")

    # session, user; in a savepoint: the ids, the update, the history rows.
    with django_assert_num_queries(7):
        staff.post(BULK, {"op": "resolve-all"})

    assert GroupedMessage.objects.filter(status=RESOLVED).count() == 20
    assert GroupActivity.objects.filter(kind="resolved").count() == 20


@pytest.mark.parametrize("op", ["", "delete-all", "resolve-everything"])
def test_bulk_refuses_unknown_operations(staff, op):
    group = make_group("x")

    assert staff.post(BULK, {"op": op}).status_code == 400
    assert status_of(group) == UNRESOLVED


def test_bulk_leaves_out_what_is_not_a_group_id(staff):
    group = make_group("x")
    ids = [str(group.pk), "\u00b2", "\u0661", "-1", str(2**63), "9" * 400, "1\x00"]

    response = staff.post(
        BULK,
        {"op": "resolve-selected", "ids": ids},
        headers={"Accept": "application/json"},
    )

    assert response.json() == {"updated": 1, "status": RESOLVED}
