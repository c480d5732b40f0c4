"""Projects on the dashboard: the switcher, one project's stream, the overview."""

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from sentry.models import GroupedMessage
from tests.dashboard_factories import count_minute, make_group, staff_client
from tests.ingest_factories import make_project

pytestmark = pytest.mark.django_db

INDEX = reverse("sentry:index")
POLL = reverse("sentry:poll")
BULK = reverse("sentry:bulk")
PROJECTS = reverse("sentry:projects")


@pytest.fixture
def staff():
    return staff_client()


@pytest.fixture
def shop():
    return make_project(2, name="Shop", slug="shop")


@pytest.fixture
def billing():
    return make_project(3, name="Billing worker", slug="billing")


def messages(browser, query=""):
    response = browser.get(INDEX + query)
    assert response.status_code == 200
    return sorted(group.message for group in response.context["rows"])


def test_the_stream_shows_every_project_by_default(staff, shop, billing):
    make_group("shop error", project=shop)
    make_group("billing error", project=billing)
    make_group("site error")

    assert messages(staff) == ["billing error", "shop error", "site error"]


def test_project_narrows_the_stream_to_that_project(staff, shop, billing):
    make_group("shop error", project=shop)
    make_group("billing error", project=billing)

    assert messages(staff, "?project=shop") == ["shop error"]
    assert messages(staff, "?project=billing") == ["billing error"]


def test_an_empty_project_means_every_project(staff, shop):
    make_group("shop error", project=shop)
    make_group("site error")

    assert messages(staff, "?project=") == ["shop error", "site error"]


def test_every_row_names_its_project_with_a_link_to_its_stream(staff, shop):
    make_group("shop error", project=shop)

    html = staff.get(INDEX).content.decode()

    assert (
        '<a class="tag project" data-field="project" href="/sentry/?project=shop" '
        'title="This project\'s errors">Shop</a>'
    ) in html


@pytest.mark.parametrize(
    "slug", ["nope", "SHOP", "shop ", "sh%00op", "%C2%B2", "x" * 300, "1", "2"]
)
def test_an_unknown_project_shows_a_notice_and_no_rows(staff, shop, slug):
    make_group("shop error", project=shop)

    response = staff.get(INDEX + f"?project={slug}")

    assert response.status_code == 200
    assert response.context["rows"] == []
    html = response.content.decode()
    assert "data-unknown-project" in html
    assert "No project has the slug" in html


def test_a_known_project_shows_no_notice(staff, shop):
    html = staff.get(INDEX + "?project=shop").content.decode()

    assert "data-unknown-project" not in html
    assert '<span class="project-name">in Shop</span>' in html


def test_the_switcher_lists_every_visible_project_and_marks_the_chosen_one(
    staff, shop, billing
):
    html = staff.get(INDEX + "?project=shop").content.decode()

    assert '<form class="project-switcher" method="get" action="/sentry/"' in html
    assert '<option value="">All projects</option>' in html
    assert '<option value="billing">Billing worker</option>' in html
    assert '<option value="shop" selected>Shop</option>' in html


def test_the_switcher_keeps_the_filters_and_sort_but_not_the_page(staff, shop):
    response = staff.get(INDEX + "?project=shop&logger=app&sort=date&after=1_1")

    switcher = response.context["switcher"]
    assert switcher["current"] == "shop"
    assert switcher["keep"] == [("logger", "app"), ("sort", "date")]
    html = response.content.decode()
    assert '<input type="hidden" name="logger" value="app">' in html


def test_the_filter_form_and_the_header_search_keep_the_project(staff, shop):
    html = staff.get(INDEX + "?project=shop").content.decode()

    # The filter form and the header's search box each carry it.
    assert html.count('<input type="hidden" name="project" value="shop">') == 2


def test_search_keeps_the_project(staff, shop):
    make_group("card declined", project=shop)
    make_group("card declined elsewhere")

    response = staff.get(reverse("sentry:search") + "?q=card&project=shop")
    assert response.status_code == 302
    assert messages(staff, "?" + response["Location"].split("?", 1)[1]) == [
        "card declined"
    ]


def test_sorts_filters_and_pages_keep_the_project(staff, shop, settings):
    for index in range(60):
        make_group(f"shop {index:02d}", project=shop, logger="app", times_seen=index)
    make_group("elsewhere", logger="app", times_seen=1000)

    first = staff.get(INDEX + "?project=shop&logger=app&sort=freq")
    page = first.context["page"]
    second = staff.get(
        INDEX + f"?project=shop&logger=app&sort=freq&after={page.next_cursor}"
    )

    rows = [g.message for g in first.context["rows"] + second.context["rows"]]
    assert rows == [f"shop {index:02d}" for index in reversed(range(60))]
    html = first.content.decode()
    assert "project=shop&amp;logger=app&amp;sort=freq&amp;after=" in html
    # The project is an active choice, with a link that clears it.
    assert ("Project", "Shop", "logger=app&sort=freq") in first.context["active"]


def test_live_updates_keep_the_project(staff, shop):
    make_group("shop error", project=shop)
    make_group("site error")

    html = staff.get(INDEX + "?project=shop").content.decode()
    rows = staff.get(POLL + "?project=shop").json()["rows"]

    assert 'data-poll-url="/sentry/poll/?project=shop"' in html
    assert [row["title"] for row in rows] == ["shop error"]
    assert rows[0]["project"] == "shop"
    assert rows[0]["project_name"] == "Shop"
    assert rows[0]["project_url"] == "/sentry/?project=shop"


def test_live_updates_of_an_unknown_project_have_no_rows(staff, shop):
    make_group("shop error", project=shop)

    response = staff.get(POLL + "?project=nope")

    assert response.status_code == 200
    assert response.json() == {"rows": [], "more": False}


def test_resolve_all_matching_stays_in_the_project(staff, shop):
    inside = make_group("shop error", project=shop)
    outside = make_group("site error")

    staff.post(BULK + "?project=shop", {"op": "resolve-all"})

    inside.refresh_from_db()
    outside.refresh_from_db()
    assert inside.status == GroupedMessage.STATUS_RESOLVED
    assert outside.status == GroupedMessage.STATUS_UNRESOLVED


def test_resolve_all_matching_an_unknown_project_resolves_nothing(staff, shop):
    group = make_group("shop error", project=shop)

    response = staff.post(
        BULK + "?project=nope", {"op": "resolve-all"}, HTTP_ACCEPT="application/json"
    )

    assert response.json()["updated"] == 0
    group.refresh_from_db()
    assert group.status == GroupedMessage.STATUS_UNRESOLVED


def test_the_bulk_form_posts_with_the_project(staff, shop):
    html = staff.get(INDEX + "?project=shop").content.decode()

    assert 'action="/sentry/bulk/?project=shop"' in html


@pytest.mark.parametrize("count", [1, 30])
def test_one_project_stream_runs_the_same_queries_whatever_the_rows(
    staff, shop, billing, count, django_assert_num_queries
):
    for index in range(count):
        make_group(f"s{index}", project=billing if index % 2 else shop)

    # session, user, the visible projects, 4 filter choices, the
    # environments, the page, the sparklines: the project is found among the
    # projects, not by a query.
    with django_assert_num_queries(10):
        response = staff.get(INDEX + "?project=shop&sort=date")
    assert response.status_code == 200
    # A live update finds the project by a subquery: no query more.
    with django_assert_num_queries(4):
        response = staff.get(POLL + "?project=shop&sort=date")
    assert response.status_code == 200


# --- the overview ---------------------------------------------------------------


def test_the_overview_lists_each_project_with_its_counts(staff, shop, billing):
    now = timezone.now()
    open_ = make_group("open", project=shop)
    make_group("also open", project=shop)
    make_group("fixed", project=shop, status=GroupedMessage.STATUS_RESOLVED)
    count_minute(open_, now, 3)
    count_minute(open_, now - dt.timedelta(hours=2), 4)
    count_minute(open_, now - dt.timedelta(hours=30), 100)  # before the day

    response = staff.get(PROJECTS)

    assert response.status_code == 200
    projects = {p.slug: p for p in response.context["projects"]}
    assert set(projects) == {"billing", "shop", "default"}
    names = [p.name for p in response.context["projects"]]
    assert names == sorted(names)
    assert projects["shop"].unresolved == 2
    assert projects["shop"].events_24h == 7
    assert projects["shop"].trend == [0] * 21 + [4, 0, 3]
    assert projects["billing"].unresolved == 0
    assert projects["billing"].events_24h == 0


def test_the_overview_links_each_project_to_its_stream_and_set_up(staff, shop):
    html = staff.get(PROJECTS).content.decode()

    assert '<a class="title" href="/sentry/?project=shop">Shop</a>' in html
    assert f'href="{reverse("sentry:setup-project", args=[shop.pk])}"' in html
    assert 'aria-label="0 in the last 24 hours"' in html


def test_the_header_links_to_the_overview(staff):
    html = staff.get(INDEX).content.decode()

    assert f'<a href="{PROJECTS}" data-nav="projects">Projects</a>' in html


@pytest.mark.parametrize("projects", [1, 12])
def test_the_overview_runs_the_same_queries_whatever_the_projects(
    staff, projects, django_assert_num_queries
):
    for number in range(2, projects + 1):
        group = make_group(f"g{number}", project=make_project(number))
        count_minute(group, timezone.now(), number)

    # session, user, the projects, the unresolved counts, the 24 h counters.
    with django_assert_num_queries(5):
        response = staff.get(PROJECTS)
    assert len(response.context["projects"]) == projects


def test_the_overview_is_for_dashboard_readers_only(shop):
    from tests.dashboard_factories import member_client

    assert member_client().get(PROJECTS).status_code == 403


def test_the_public_overview_has_no_set_up_links(client, shop, settings):
    settings.SENTRY_PUBLIC = True

    html = client.get(PROJECTS).content.decode()

    assert "Shop" in html
    assert "/setup/" not in html


def test_the_overview_switcher_opens_a_project_stream(staff, shop):
    html = staff.get(PROJECTS).content.decode()

    assert '<option value="shop">Shop</option>' in html
    assert urlencode({"project": "shop"}) in html
