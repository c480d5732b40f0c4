"""The stream: rows, sorts, filters, search, pages, sparklines and live updates."""

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from sentry.client.models import client as sentry_client
from sentry.models import FilterValue, GroupedMessage
from tests.dashboard_factories import (
    count_minute,
    make_group,
    make_message,
    minutes_ago,
    seen_with,
    staff_client,
)

pytestmark = pytest.mark.django_db

INDEX = reverse("sentry:index")
POLL = reverse("sentry:poll")


@pytest.fixture
def staff():
    return staff_client()


def titles(browser, query=""):
    response = browser.get(INDEX + query)
    assert response.status_code == 200
    return [group.message for group in response.context["rows"]]


def test_a_row_shows_count_title_culprit_level_logger_and_last_seen(staff):
    make_group(
        "could not charge card",
        class_name="CardError",
        view="shop.views.pay",
        logger="shop",
        level=30,
        times_seen=12,
        last_seen=minutes_ago(5),
    )

    html = staff.get(INDEX).content.decode()

    assert "CardError: could not charge card" in html
    assert "shop.views.pay" in html
    assert '<span class="tag level" data-field="level">warning</span>' in html
    assert '<span class="tag logger" data-field="logger">shop</span>' in html
    assert '<td class="count" data-field="times_seen">12</td>' in html
    assert "5 minutes ago" in html


def test_a_text_message_is_titled_by_its_first_line(staff):
    make_group("first line\nsecond line")

    html = staff.get(INDEX).content.decode()

    assert ">first line</a>" in html
    assert "second line" not in html


def test_the_stream_shows_unresolved_errors_by_priority_by_default(staff):
    make_group("rare", times_seen=1, last_seen=minutes_ago(10))
    make_group("frequent", times_seen=5000, last_seen=minutes_ago(60))
    make_group("fixed", status=GroupedMessage.STATUS_RESOLVED)

    assert titles(staff) == ["frequent", "rare"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("priority", ["frequent", "new", "old"]),
        ("date", ["new", "frequent", "old"]),
        ("new", ["new", "old", "frequent"]),
        ("freq", ["frequent", "old", "new"]),
        ("nonsense", ["frequent", "new", "old"]),
    ],
)
def test_the_stream_sorts(staff, sort, expected):
    make_group(
        "old", times_seen=5, first_seen=minutes_ago(600), last_seen=minutes_ago(500)
    )
    make_group(
        "frequent",
        times_seen=9000,
        first_seen=minutes_ago(9000),
        last_seen=minutes_ago(30),
    )
    make_group("new", times_seen=1, first_seen=minutes_ago(1), last_seen=minutes_ago(1))

    assert titles(staff, f"?sort={sort}") == expected


def test_the_status_filter_shows_resolved_or_all(staff):
    make_group("open")
    make_group("fixed", status=GroupedMessage.STATUS_RESOLVED)

    assert titles(staff, "?status=1") == ["fixed"]
    assert sorted(titles(staff, "?status=all")) == ["fixed", "open"]
    assert titles(staff, "?status=0") == ["open"]


def test_filters_by_level_logger_server_and_site_combine(staff, settings):
    sentry_client.create_from_text("warned", level=30, logger="shop")
    sentry_client.create_from_text("on web-9", server_name="web-9")
    settings.SENTRY_SITE = "blog"
    sentry_client.create_from_text("on the blog")

    assert titles(staff, "?level=30") == ["warned"]
    assert titles(staff, "?logger=shop") == ["warned"]
    assert titles(staff, "?server_name=web-9") == ["on web-9"]
    assert titles(staff, "?site=blog") == ["on the blog"]
    assert titles(staff, "?level=40&server_name=test-server") == ["on the blog"]
    assert titles(staff, "?level=30&server_name=web-9") == []
    assert titles(staff, "?level=warning") == []
    assert len(titles(staff)) == 3


def test_filter_choices_come_from_the_stored_values(staff):
    sentry_client.create_from_text("x", server_name="web-3", logger="shop")

    response = staff.get(INDEX)
    filters = {f["column"]: f for f in response.context["filters"]}

    assert "web-3" in filters["server_name"]["choices"]
    assert "shop" in filters["logger"]["choices"]
    assert filters["level"]["choices"]["40"] == "error"
    assert filters["status"]["value"] == "0"
    assert '<option value="web-3">web-3</option>' in response.content.decode()


def test_the_time_range_keeps_recently_seen_errors(staff):
    make_group("now", last_seen=minutes_ago(1))
    make_group("this morning", last_seen=minutes_ago(180))
    make_group("last week", last_seen=minutes_ago(60 * 24 * 3))
    make_group("long ago", last_seen=minutes_ago(60 * 24 * 30))

    assert titles(staff, "?since=1h&sort=date") == ["now"]
    assert titles(staff, "?since=1d&sort=date") == ["now", "this morning"]
    assert len(titles(staff, "?since=1w")) == 3
    assert len(titles(staff, "?since=forever")) == 4


def test_active_filters_are_shown_with_links_that_clear_them(staff):
    group = make_group("x", logger="shop", level=30)
    seen_with(group, "server_name", "web-1")

    response = staff.get(INDEX + "?logger=shop&level=30&since=1d&q=x&sort=freq")
    active = {label: (value, url) for label, value, url in response.context["active"]}

    assert set(active) == {"Logger", "Level", "Seen", "Search"}
    assert active["Level"][0] == "warning"
    assert active["Seen"][0] == "Last day"
    assert "logger=" not in active["Logger"][1]
    assert "level=30" in active["Logger"][1] and "sort=freq" in active["Logger"][1]
    html = response.content.decode()
    assert "Clear all" in html
    assert 'aria-label="Clear Logger"' in html


def test_the_default_status_is_not_an_active_filter(staff):
    assert staff.get(INDEX).context["active"] == []
    [(label, value, _)] = staff.get(INDEX + "?status=all").context["active"]
    assert (label, value) == ("Status", "All")


@pytest.mark.parametrize("query", ["CARD decl", "carderror", "payments.views"])
def test_search_finds_text_in_the_message_class_or_culprit(staff, query):
    make_group("card declined", class_name="CardError", view="payments.views.pay")
    make_group("other", class_name="KeyError", view="shop.views.cart")

    assert titles(staff, "?" + urlencode({"q": query})) == ["card declined"]


def test_search_treats_wildcards_as_text(staff):
    make_group("100% broken")
    make_group("fine")

    assert titles(staff, "?q=%25") == ["100% broken"]
    assert titles(staff, "?q=_") == []


def test_search_combines_with_filters(staff):
    make_group("timeout talking to bank", logger="payments")
    make_group("timeout talking to mail", logger="mail")

    assert titles(staff, "?q=timeout&logger=mail") == ["timeout talking to mail"]


def test_a_pasted_event_id_opens_that_occurrence(staff):
    message = make_message(make_group("x"))
    pasted = str(message.message_id).upper()
    dashed = "-".join(
        [pasted[:8], pasted[8:12], pasted[12:16], pasted[16:20], pasted[20:]]
    )

    for query in (message.message_id, pasted, f" {dashed} "):
        response = staff.get(INDEX, {"q": query})
        assert response.status_code == 302
        assert response["Location"] == message.get_absolute_url()


def test_an_unknown_event_id_says_so(staff):
    response = staff.get(INDEX, {"q": "0" * 32})

    assert response.status_code == 200
    assert "No occurrence has the event ID" in response.content.decode()


def test_the_search_url_sends_to_the_stream(staff):
    message = make_message(make_group("x"))

    response = staff.get(reverse("sentry:search"), {"q": "needle"})
    assert response.status_code == 302
    assert response["Location"] == INDEX + "?q=needle"
    response = staff.get(
        reverse("sentry:search"), {"q": message.message_id}, follow=True
    )
    assert response.redirect_chain[-1][0] == message.get_absolute_url()


def test_pages_follow_each_other_without_gaps_or_repeats(staff):
    base = timezone.now()
    for index in range(120):
        # Equal scores in pairs: the tie-breaker must keep pages exact.
        make_group(f"g{index:03}", last_seen=base, times_seen=1 + index // 2)
    seen, query, pages = [], "", 0
    while True:
        response = staff.get(INDEX + query)
        page = response.context["page"]
        seen += [group.message for group in page]
        pages += 1
        if not page.has_next:
            break
        query = f"?after={page.next_cursor}"

    assert pages == 3
    assert len(seen) == 120 and len(set(seen)) == 120
    assert seen == [g.message for g in GroupedMessage.objects.order_by("-score", "-pk")]


def test_newer_links_walk_back_to_the_first_page(staff):
    for index in range(60):
        make_group(f"g{index:02}", times_seen=index + 1)
    first = staff.get(INDEX).context["page"]
    second = staff.get(INDEX + f"?after={first.next_cursor}").context["page"]

    back = staff.get(INDEX + f"?before={second.previous_cursor}").context["page"]

    assert [g.pk for g in back] == [g.pk for g in first]
    assert not back.has_previous
    assert back.has_next
    assert 'rel="next"' in staff.get(INDEX).content.decode()


@pytest.mark.parametrize(
    "cursor",
    ["after=garbage", "after=1.5_x", "before=_", "after=nan_3", "after=1e999_2"],
)
def test_a_broken_cursor_shows_the_first_page(staff, cursor):
    make_group("x")

    assert titles(staff, f"?{cursor}") == ["x"]


def test_only_the_first_page_is_live(staff):
    for index in range(55):
        make_group(f"g{index}")

    first = staff.get(INDEX)
    second = staff.get(INDEX + f"?after={first.context['page'].next_cursor}")

    assert b"data-live " in first.content
    assert b"data-live " not in second.content


@pytest.mark.parametrize("interval", [0, -5, "often", None])
def test_live_updates_can_be_turned_off(staff, settings, interval):
    settings.SENTRY_POLL_INTERVAL = interval
    make_group("x")

    assert b"data-live " not in staff.get(INDEX).content


def test_sparklines_count_the_last_24_hours_per_hour(staff):
    group = make_group("x")
    count_minute(group, timezone.now(), 4)
    count_minute(group, timezone.now() - dt.timedelta(hours=3), 2)
    count_minute(group, timezone.now() - dt.timedelta(hours=30), 50)

    [row] = staff.get(INDEX).context["rows"]

    assert len(row.trend) == 24
    assert row.trend[-1] == 4
    assert row.trend[-4] == 2
    assert sum(row.trend) == 6
    assert 'aria-label="6 in the last 24 hours"' in staff.get(INDEX).content.decode()


def test_the_plugin_tag_hook_is_in_every_row(staff, monkeypatch):
    group = make_group("x")
    monkeypatch.setattr(
        "sentry.views.stream.stream_row_tags",
        lambda request, groups: {group.pk: [("server", "<web-1>")]},
    )

    html = staff.get(INDEX).content.decode()
    poll = staff.get(POLL).json()

    assert '<span class="tag plugin">server: &lt;web-1&gt;</span>' in html
    assert poll["rows"][0]["tags"] == [["server", "<web-1>"]]


def make_stream(count):
    for index in range(count):
        group = make_group(f"g{index}", logger=f"logger{index % 3}")
        seen_with(group, "server_name", f"web-{index % 4}")
        count_minute(group, timezone.now(), index + 1)


@pytest.mark.parametrize("count", [1, 30])
def test_the_stream_runs_the_same_queries_whatever_the_rows(
    staff, count, django_assert_num_queries
):
    make_stream(count)

    # session, user, the visible projects (switcher, row names), 4 filter
    # choices, the environments, the page, the sparklines.
    with django_assert_num_queries(10):
        response = staff.get(INDEX + "?server_name=web-0&level=40&q=g&sort=date")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "",
        "g",
        "g1 environment:production !tenant:acme release:2.* has:user.email "
        "is:unresolved level:error logger:logger1 firstSeen:-24h lastSeen:<-1m",
    ],
)
def test_a_search_of_many_terms_costs_no_more_queries_than_none(
    staff, query, django_assert_num_queries
):
    make_stream(5)
    found = make_group("g1 found", logger="logger1", level=40, last_seen=minutes_ago(5))
    seen_with(found, "server_name", "web-0")
    for key, value in [
        ("tag:environment", "production"),
        ("tag:release", "2.0.1"),
        ("user.email", "jane@example.com"),
    ]:
        seen_with(found, key, value)

    # As above: the terms are conditions and subqueries of the page's query.
    with django_assert_num_queries(10):
        response = staff.get(
            INDEX + "?" + urlencode({"server_name": "web-0", "q": query})
        )
    assert "g1 found" in [group.message for group in response.context["rows"]]


@pytest.mark.parametrize("count", [1, 30])
def test_live_updates_run_the_same_queries_whatever_the_rows(
    staff, count, django_assert_num_queries
):
    make_stream(count)

    # session, user, the page (with each row's project), the sparklines: a
    # project's slug is a subquery, not a query of its own.
    with django_assert_num_queries(4):
        response = staff.get(POLL + "?server_name=web-0&sort=freq")
    assert response.status_code == 200


def test_live_updates_answer_the_first_page_as_json(staff):
    group = make_group(
        "card <declined>", class_name="CardError", view="pay", logger="shop", level=30
    )
    make_group("fixed", status=GroupedMessage.STATUS_RESOLVED)
    count_minute(group, timezone.now(), 3)

    first = staff.get(INDEX).context["page"]
    response = staff.get(POLL + f"?after={first.next_cursor or '1_1'}")
    [row] = response.json()["rows"]

    assert response["Content-Type"] == "application/json"
    assert row["id"] == group.pk
    assert row["title"] == "CardError: card <declined>"
    assert row["culprit"] == "pay"
    assert row["level"] == "warning"
    assert row["logger"] == "shop"
    assert row["times_seen"] == 1
    assert row["resolved"] is False
    assert row["trend"][-1] == 3
    assert row["url"] == group.get_absolute_url()
    assert row["resolve_url"] == reverse("sentry:resolve", args=[group.pk])
    assert row["unresolve_url"] == reverse("sentry:unresolve", args=[group.pk])
    assert response.json()["more"] is False


def test_live_updates_follow_the_same_filters_and_sort(staff):
    make_group("a", logger="shop", times_seen=3)
    make_group("b", logger="shop", times_seen=9)
    make_group("c", logger="mail", times_seen=99)

    rows = staff.get(POLL + "?logger=shop&sort=freq").json()["rows"]

    assert [row["title"] for row in rows] == ["b", "a"]


def test_a_project_can_extend_the_row_template(staff, settings, tmp_path):
    folder = tmp_path / "sentry" / "stream"
    folder.mkdir(parents=True)
    (folder / "row.html").write_text(
        '{% extends "sentry/stream/row.html" %}'
        '{% block plugin_tags %}<span class="tag mine">{{ group.logger|upper }}'
        "</span>{% endblock %}"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    make_group("x", logger="shop")

    html = staff.get(INDEX).content.decode()

    assert '<span class="tag mine">SHOP</span>' in html
    assert 'data-field="times_seen"' in html


def many_values(key, count):
    FilterValue.objects.bulk_create(
        FilterValue(key=key, value=f"{key}-{index:05d}-{'x' * 40}")
        for index in range(count)
    )


def test_thousands_of_server_names_and_loggers_do_not_grow_the_page(
    staff, django_assert_num_queries
):
    make_group("one error", logger="shop")
    plain = len(staff.get(INDEX).content)
    many_values("server_name", 5000)
    many_values("logger", 5000)

    # session, user, projects, 4 filter choices, the environments, the page,
    # the sparklines: as before.
    with django_assert_num_queries(10):
        response = staff.get(INDEX)

    html = response.content.decode()
    filters = {f["column"]: f for f in response.context["filters"]}
    assert len(filters["server_name"]["choices"]) == 100
    assert filters["server_name"]["more"] and filters["logger"]["more"]
    assert 'list="choices-server_name"' in html
    # Two lists of 100 suggestions (~60 bytes each), not 10,000 options.
    assert len(response.content) - plain < 16_000
    assert html.count("<option") < 300


def test_the_latest_values_are_the_ones_suggested(staff):
    many_values("server_name", 500)
    FilterValue.objects.create(key="server_name", value="brand-new")

    response = staff.get(INDEX)

    filters = {f["column"]: f for f in response.context["filters"]}
    assert "brand-new" in filters["server_name"]["choices"]


def test_any_value_still_filters_by_url_past_the_suggestions(staff):
    many_values("server_name", 500)
    wanted = make_group("on the old server")
    seen_with(wanted, "server_name", "server_name-00001-" + "x" * 40)
    make_group("elsewhere")

    assert titles(staff, "?server_name=server_name-00001-" + "x" * 40) == [
        "on the old server"
    ]


def test_a_value_from_the_url_that_is_not_offered_stays_chosen(staff):
    sentry_client.create_from_text("x", server_name="web-3")

    html = staff.get(INDEX + "?server_name=web-unknown").content.decode()

    assert '<option value="web-unknown" selected>web-unknown</option>' in html


@pytest.mark.parametrize(
    "query",
    [
        {"level": "\u00b2"},
        {"level": "\u0663"},
        {"level": str(2**63)},
        {"level": "4" * 400},
        {"logger": "shop\x00"},
        {"server_name": "web-1\x00"},
        {"site": "x" * 5000},
        {"q": "broke\x00"},
    ],
)
def test_a_filter_no_error_can_match_shows_no_rows_not_a_server_error(staff, query):
    sentry_client.create_from_text("it broke", logger="shop", server_name="web-1")

    assert titles(staff, "?" + urlencode(query)) == []
    assert staff.get(POLL + "?" + urlencode(query)).status_code == 200


@pytest.mark.parametrize(
    "cursor",
    [
        "\u00b2_1",
        "1_\u00b2",
        "\u0661_1",
        "1_\u0661",
        f"1_{2**63}",
        "1_" + "9" * 400,
        "1\x00_1",
        "nan_1",
        " 1_1",
        "1e400_1",
        "_" * 1000,
    ],
)
@pytest.mark.parametrize("sort", ["priority", "date", "freq"])
def test_a_cursor_that_is_not_strictly_one_shows_the_first_page(staff, cursor, sort):
    make_group("only")

    assert titles(staff, "?" + urlencode({"sort": sort, "after": cursor})) == ["only"]
    assert titles(staff, "?" + urlencode({"sort": sort, "before": cursor})) == ["only"]


# --- the search language -------------------------------------------------------------


def test_the_stream_finds_errors_by_tag_and_negation(staff):
    staging = make_group("on staging")
    seen_with(staging, "tag:environment", "staging")
    production = make_group("on production")
    seen_with(production, "tag:environment", "production")

    assert titles(staff, "?q=environment:staging") == ["on staging"]
    assert titles(staff, "?q=%21environment:staging") == ["on production"]
    assert titles(staff, "?q=has:environment+on") == ["on production", "on staging"]


def test_an_is_term_replaces_the_default_unresolved_status(staff):
    make_group("open")
    make_group("fixed", status=1)

    assert titles(staff) == ["open"]
    assert titles(staff, "?q=is:resolved") == ["fixed"]
    # A status chosen in the URL still applies.
    assert titles(staff, "?status=0&q=is:resolved") == []


def test_a_query_that_cannot_be_read_is_said_in_the_page_and_matches_nothing(staff):
    make_group("anything")

    response = staff.get(INDEX, {"q": "x environment:"})
    html = response.content.decode()

    assert response.status_code == 200
    assert response.context["rows"] == []
    assert (
        "The search cannot be read: &#x27;environment:&#x27; has no value; "
        "write environment:production or has:environment." in html
    )
    assert 'aria-invalid="true"' in html
    # The rest of the page works: the filters, the box with the query.
    assert 'name="sort"' in html
    assert 'value="x environment:"' in html
    assert staff.get(POLL, {"q": "x environment:"}).json()["rows"] == []


def test_a_readable_query_shows_no_error(staff):
    html = staff.get(INDEX, {"q": "environment:production"}).content.decode()

    assert "data-search-error" not in html


def test_the_error_message_is_escaped(staff):
    html = staff.get(INDEX, {"q": '"<img src=x onerror=alert(1)>'}).content.decode()

    assert "&lt;img src=x onerror=alert(1)&gt;&#x27; has no closing quote" in html
    assert "<img src=x" not in html


def test_an_over_long_query_is_said_not_cut(staff):
    make_group("x" * 300)

    response = staff.get(INDEX, {"q": "x" * 500})

    assert response.context["rows"] == []
    assert "the query is longer than 200 characters" in response.content.decode()


def test_resolving_all_matching_an_unreadable_query_resolves_nothing(staff):
    group = make_group("open")

    response = staff.post(
        reverse("sentry:bulk") + "?q=is:",
        {"op": "resolve-all"},
        headers={"accept": "application/json"},
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "'is:' has no value; write is:unresolved, is:resolved or is:muted"
    }
    group.refresh_from_db()
    assert group.status == 0
