"""The JSON API, for staff sessions and API tokens."""

from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from sentry import projects
from sentry.api.tokens import ApiToken
from sentry.client.models import client as sentry_client
from sentry.models import GroupedMessage, Message, Project
from tests.dashboard_factories import make_group, make_message
from tests.ingest_factories import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("ops", password="pw", is_staff=True)


@pytest.fixture
def token(staff_user):
    return ApiToken.objects.create_token(
        staff_user, label="script", scopes=("event:read", "event:write")
    )[1]


@pytest.fixture
def api(token):
    return Client(headers={"Authorization": f"Bearer {token}"})


def record(message, **kwargs):
    return Message.objects.get(
        message_id=sentry_client.create_from_text(message, **kwargs)
    )


def test_groups_are_listed_with_the_stream_filters(api):
    record("disk full", logger="storage")
    record("card declined", logger="payments", level=30)
    url = reverse("sentry:api-groups")

    everything = api.get(url).json()
    warnings = api.get(url, {"level": 30}).json()
    storage = api.get(url, {"logger": "storage"}).json()

    assert {g["title"] for g in everything["results"]} == {"disk full", "card declined"}
    assert [g["title"] for g in warnings["results"]] == ["card declined"]
    assert warnings["results"][0]["level"] == "warning"
    assert [g["title"] for g in storage["results"]] == ["disk full"]
    assert everything["next"] is None


def test_lists_are_paged_without_counting(api):
    for n in range(5):
        record(f"error {n}")
    url = reverse("sentry:api-groups")

    first = api.get(url, {"limit": 2, "sort": "date"}).json()
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()

    titles = [g["title"] for page in (first, second, third) for g in page["results"]]
    assert titles == [f"error {n}" for n in (4, 3, 2, 1, 0)]
    assert third["next"] is None


def test_bad_paging_and_sorting_are_400(api):
    url = reverse("sentry:api-groups")
    assert api.get(url, {"limit": "ten"}).status_code == 400
    assert api.get(url, {"sort": "nonsense"}).status_code == 400


def test_a_group_shows_its_top_values_and_latest_occurrence(api):
    record("flaky", server_name="web-1")
    record("flaky", server_name="web-1")
    latest = record("flaky", server_name="web-2")

    data = api.get(reverse("sentry:api-group", args=[latest.group_id])).json()

    assert data["times_seen"] == 3
    assert data["top_values"]["server_name"] == [
        {"value": "web-1", "times_seen": 2},
        {"value": "web-2", "times_seen": 1},
    ]
    assert data["latest_occurrence"]["message_id"] == latest.message_id
    assert data["url"].endswith(f"/sentry/group/{latest.group_id}/")


def test_occurrences_of_a_group_and_one_occurrence(api):
    first = record("twice")
    second = record("twice")

    listing = api.get(reverse("sentry:api-occurrences", args=[first.group_id])).json()
    detail = api.get(reverse("sentry:api-occurrence", args=[first.message_id])).json()

    assert [o["message_id"] for o in listing["results"]] == [
        second.message_id,
        first.message_id,
    ]
    assert detail["message"] == "twice"
    assert detail["data"] == first.data


def test_missing_objects_are_json_404s(api):
    response = api.get(reverse("sentry:api-group", args=[999]))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_token_resolves_and_unresolves_without_csrf(api):
    group_id = record("fix me").group_id

    resolved = api.post(reverse("sentry:api-resolve", args=[group_id]))
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"
    assert GroupedMessage.objects.get().status == GroupedMessage.STATUS_RESOLVED

    api.post(reverse("sentry:api-unresolve", args=[group_id]))
    assert GroupedMessage.objects.get().status == GroupedMessage.STATUS_UNRESOLVED


def test_state_changes_need_a_post(api):
    group_id = record("x").group_id
    response = api.get(reverse("sentry:api-resolve", args=[group_id]))
    assert response.status_code == 405
    assert GroupedMessage.objects.get().status == GroupedMessage.STATUS_UNRESOLVED


def test_a_staff_session_reads_and_writes_with_csrf(staff_user):
    group_id = record("session").group_id
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)

    assert browser.get(reverse("sentry:api-groups")).status_code == 200
    refused = browser.post(reverse("sentry:api-resolve", args=[group_id]))
    assert refused.status_code == 403
    assert GroupedMessage.objects.get().status == GroupedMessage.STATUS_UNRESOLVED

    browser.get(reverse("sentry:login"))  # sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post(
        reverse("sentry:api-resolve", args=[group_id]), headers={"X-CSRFToken": csrf}
    )
    assert accepted.status_code == 200


def test_anonymous_requests_and_bad_tokens_are_refused():
    record("secret")
    url = reverse("sentry:api-groups")
    assert Client().get(url).status_code == 401
    bad = Client(headers={"Authorization": "Bearer sntr_not-a-real-token"}).get(url)
    assert bad.status_code == 401


def test_tokens_of_users_without_access_are_refused(django_user_model):
    member = django_user_model.objects.create_user("member")
    token = ApiToken.objects.create_token(member, scopes=("event:read",))[1]
    response = Client(headers={"Authorization": f"Bearer {token}"}).get(
        reverse("sentry:api-groups")
    )
    assert response.status_code == 403


def test_tokens_of_inactive_users_are_refused(staff_user, api):
    staff_user.is_active = False
    staff_user.save()
    assert api.get(reverse("sentry:api-groups")).status_code == 401


def test_only_a_digest_of_the_token_is_stored(token):
    row = ApiToken.objects.get()
    assert token not in (row.key_hash, row.label)
    assert len(row.key_hash) == 64
    assert row.last_used is None


def test_using_a_token_records_when(api):
    api.get(reverse("sentry:api-groups"))
    assert ApiToken.objects.get().last_used is not None


PAGING_NONSENSE = [
    {"limit": "\u00b2"},
    {"limit": "\u0663"},
    {"limit": " 3"},
    {"limit": "-1"},
    {"offset": str(2**63)},
    {"offset": str(2**31)},
    {"offset": "9" * 400},
    {"offset": "\u0661"},
]


def assert_400_json(response):
    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.parametrize("query", PAGING_NONSENSE)
def test_paging_that_is_not_a_number_in_range_is_400_json(api, query):
    group_id = record("flaky").group_id

    assert_400_json(api.get(reverse("sentry:api-groups"), query))
    assert_400_json(api.get(reverse("sentry:api-occurrences", args=[group_id]), query))


@pytest.mark.parametrize("query", [{"logger": "shop\x00"}, {"q\x00": "x"}])
def test_a_nul_in_a_parameter_is_400_json(api, query):
    record("flaky", logger="shop")

    assert_400_json(api.get(reverse("sentry:api-groups"), query))


def test_a_large_limit_is_clamped_and_a_deep_offset_is_an_empty_page(api):
    record("flaky")
    url = reverse("sentry:api-groups")

    assert len(api.get(url, {"limit": "1000"}).json()["results"]) == 1
    assert api.get(url, {"offset": str(2**31 - 1)}).json()["results"] == []


@pytest.mark.parametrize("level", ["\u00b2", "abc", str(2**63)])
def test_a_level_that_is_no_level_is_400_saying_so(api, level):
    record("flaky")

    response = api.get(reverse("sentry:api-groups"), {"level": level})

    assert response.status_code == 400
    assert response.json() == {
        "detail": f"level={level!r} is not a level; use a number "
        "(10 debug, 20 info, 30 warning, 40 error, 50 fatal)."
    }


def test_a_level_no_error_has_lists_nothing(api):
    record("flaky")

    response = api.get(reverse("sentry:api-groups"), {"level": "35"})

    assert response.json()["results"] == []


@pytest.mark.parametrize("message_id", ["a\x00b", "f" * 33, "%00"])
def test_an_occurrence_id_no_row_can_have_is_404(api, message_id):
    url = reverse("sentry:api-occurrence", args=["placeholder"]).replace(
        "placeholder", quote(message_id)
    )

    assert api.get(url).status_code == 404


# --- projects and short ids ------------------------------------------------------


def test_a_group_carries_its_project_s_slug_and_short_id(api):
    make_project(2, slug="shop")
    make_group("a", project_id=2)
    group = make_group("basket lost", project_id=2)

    detail = api.get(reverse("sentry:api-group", args=[group.pk])).json()
    [listed] = api.get(
        reverse("sentry:api-groups"), {"project": "shop", "sort": "new", "limit": 1}
    ).json()["results"]
    resolved = api.post(reverse("sentry:api-resolve", args=[group.pk])).json()

    for body in (detail, listed, resolved):
        assert body["project"] == "shop"
        assert body["short_id"] == "SHOP-2"


def test_groups_narrow_to_a_project_by_its_slug(api):
    make_project(2, slug="shop")
    make_group("basket lost", project_id=2)
    make_group("queue stalled")

    def titles(**query):
        response = api.get(reverse("sentry:api-groups"), query)
        assert response.status_code == 200
        return sorted(row["title"] for row in response.json()["results"])

    assert titles(project="shop") == ["basket lost"]
    assert titles(project="default") == ["queue stalled"]
    assert titles() == ["basket lost", "queue stalled"]


@pytest.mark.parametrize(
    "project, detail",
    [
        ("nope", "No project has the slug 'nope'."),
        ("SHOP", "No project has the slug 'SHOP'."),
        ("", "project must be a project's slug."),
        ("shop shop", "project must be a project's slug."),
        ("x" * 51, "project must be a project's slug."),
        (["shop", "shop"], "Give project once."),
    ],
)
def test_a_project_that_is_not_there_is_a_400_that_says_why(api, project, detail):
    make_project(2, slug="shop")

    response = api.get(reverse("sentry:api-groups"), {"project": project})

    assert response.status_code == 400
    assert response.json() == {"detail": detail}


def test_a_project_the_user_may_not_see_is_refused_like_a_missing_one(api, monkeypatch):
    make_project(2, slug="shop")
    group = make_group("hidden", project_id=2)
    message = make_message(group)
    monkeypatch.setattr(
        projects, "visible_projects", lambda user: Project.objects.exclude(pk=2)
    )
    monkeypatch.setattr(
        projects, "visible_groups", lambda groups, user: groups.exclude(project_id=2)
    )

    response = api.get(reverse("sentry:api-groups"), {"project": "shop"})
    assert response.json() == {"detail": "No project has the slug 'shop'."}
    assert api.get(reverse("sentry:api-groups")).json()["results"] == []
    for url in (
        reverse("sentry:api-group", args=[group.pk]),
        reverse("sentry:api-occurrences", args=[group.pk]),
        reverse("sentry:api-occurrence", args=[message.message_id]),
    ):
        assert api.get(url).status_code == 404
    assert api.post(reverse("sentry:api-resolve", args=[group.pk])).status_code == 404


@pytest.mark.parametrize("count", [1, 20])
def test_listing_groups_runs_the_same_queries_whatever_the_rows(
    api, count, django_assert_num_queries
):
    make_project(2, slug="shop")
    for n in range(count):
        make_group(f"error {n}", project_id=2 if n % 2 else 1)
    # The token, its last use, the page (its groups and their projects in
    # one join).
    with django_assert_num_queries(3):
        api.get(reverse("sentry:api-groups"))
    # And the project asked for.
    with django_assert_num_queries(4):
        api.get(reverse("sentry:api-groups"), {"project": "shop"})


# --- ?q=: the search language -------------------------------------------------------


def test_groups_take_the_search_language(api):
    record("disk full", logger="storage")
    record("card declined", logger="payments", level=30)
    GroupedMessage.objects.filter(message="disk full").update(status=1)
    url = reverse("sentry:api-groups")

    def titles(query):
        return [g["title"] for g in api.get(url, {"q": query}).json()["results"]]

    assert titles("card") == ["card declined"]
    assert titles("level:warning !logger:storage") == ["card declined"]
    assert titles("disk") == []
    assert titles("is:resolved") == ["disk full"]


def test_occurrences_take_the_search_language(api):
    first = record("flaky", server_name="web-1")
    record("flaky", server_name="web-2")
    url = reverse("sentry:api-occurrences", args=[first.group_id])

    listing = api.get(url, {"q": "server:web-1"}).json()

    assert [o["message_id"] for o in listing["results"]] == [first.message_id]


def test_occurrences_carry_and_are_searched_by_release_and_environment(api):
    group = make_group("flaky")
    make_message(group, release="1.4.2", environment="staging", user="jane@x.org")
    make_message(group, release="1.4.3", environment="production")
    url = reverse("sentry:api-occurrences", args=[group.pk])

    listing = api.get(url, {"q": "environment:staging"}).json()

    [found] = listing["results"]
    assert (found["release"], found["environment"], found["user"]) == (
        "1.4.2",
        "staging",
        "jane@x.org",
    )
    assert [o["release"] for o in api.get(url).json()["results"]] == [
        "1.4.3",
        "1.4.2",
    ]


@pytest.mark.parametrize(
    ("name", "query", "term", "reason"),
    [
        (
            "sentry:api-groups",
            "card environment:",
            "environment:",
            "'environment:' has no value; "
            "write environment:production or has:environment",
        ),
        (
            "sentry:api-groups",
            "is:ignored",
            "is:ignored",
            "'is:ignored' is not a state; use is:unresolved, is:resolved or is:muted",
        ),
        (
            "sentry:api-occurrences",
            '"unclosed',
            '"unclosed',
            "'\"unclosed' has no closing quote",
        ),
        (
            "sentry:api-occurrences",
            "tenant:",
            "tenant:",
            "'tenant:' has no value; write tenant:value or has:tenant",
        ),
        (
            "sentry:api-groups",
            "x" * 201,
            None,
            "the query is longer than 200 characters",
        ),
    ],
)
def test_a_query_that_cannot_be_read_is_400_naming_the_term_and_why(
    api, name, query, term, reason
):
    group_id = record("flaky").group_id
    args = [group_id] if name == "sentry:api-occurrences" else []

    response = api.get(reverse(name, args=args), {"q": query})

    assert response.status_code == 400
    assert response.json() == {
        "detail": f"The search cannot be read: {reason}.",
        "term": term,
        "reason": reason,
    }


def test_a_search_costs_no_query_of_its_own(api, django_assert_num_queries):
    make_group("error")

    with django_assert_num_queries(3):
        api.get(
            reverse("sentry:api-groups"),
            {"q": "error environment:production !has:user.id firstSeen:-1d"},
        )
