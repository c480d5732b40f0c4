"""An error's pages: details, occurrences, one occurrence and its raw data."""

import datetime as dt
import json
import re
from html import unescape
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from sentry.client.models import client as sentry_client
from sentry.models import Message
from tests.dashboard_factories import (
    count_minute,
    make_group,
    make_message,
    minutes_ago,
    record_event,
    sdk_event_data,
    staff_client,
)
from tests.ingest_factories import make_key, message_event, post_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return staff_client()


def raise_chained():
    try:
        try:
            {}["missing"]
        except KeyError:
            1 / 0
    except ZeroDivisionError as exc:
        raise ValueError("could not compute ratio") from exc


def capture_chained():
    try:
        raise_chained()
    except ValueError:
        message_id = sentry_client.create_from_exception()
    return Message.objects.get(message_id=message_id)


def test_the_group_page_shows_header_sidebar_tabs_and_latest_occurrence(staff):
    group = make_group(
        "could not charge", class_name="CardError", view="pay.views.charge"
    )
    make_message(group, when=minutes_ago(10), message_id="a" * 32)
    make_message(group, when=minutes_ago(1), message_id="b" * 32)

    response = staff.get(reverse("sentry:group", args=[group.pk]))
    html = response.content.decode()

    assert response.status_code == 200
    assert '<h1 class="title">CardError: could not charge</h1>' in html
    assert "pay.views.charge" in html
    assert "Unresolved" in html
    assert ">Details</a>" in html and ">Occurrences</a>" in html
    assert "<dt>Logger</dt>" in html and "<dt>Times seen</dt>" in html
    assert response.context["message"].message_id == "b" * 32


def test_the_group_page_runs_a_fixed_number_of_queries(
    staff, django_assert_num_queries
):
    group = make_group("x")
    for minute in range(50):
        make_message(group, when=minutes_ago(minute))
        count_minute(group, minutes_ago(minute), 3)

    # session, user, group, latest occurrence, trend, tags.
    with django_assert_num_queries(6):
        response = staff.get(reverse("sentry:group", args=[group.pk]) + "?range=7d")
    assert response.context["trend"].total == 150


@pytest.mark.parametrize(
    ("range_name", "hours"), [("24h", 24), ("7d", 168), ("30d", 720), ("x", 24)]
)
def test_the_trend_covers_the_chosen_range_per_hour(staff, range_name, hours):
    group = make_group("x")
    count_minute(group, timezone.now(), 2)
    count_minute(group, timezone.now() - dt.timedelta(days=6), 5)
    count_minute(group, timezone.now() - dt.timedelta(days=20), 7)

    response = staff.get(
        reverse("sentry:group", args=[group.pk]), {"range": range_name}
    )
    trend = response.context["trend"]

    assert len(trend.counts) == hours
    expected = {24: 2, 168: 7, 720: 14}[hours]
    assert trend.total == expected
    assert '<svg class="trend"' in response.content.decode()


def test_a_group_without_stored_occurrences_still_shows(staff):
    group = make_group("counted only", traceback="Traceback: the text")

    html = staff.get(reverse("sentry:group", args=[group.pk])).content.decode()

    assert "No occurrence of this error is stored" in html
    assert "Traceback: the text" in html


def test_unknown_groups_are_not_found(staff):
    assert staff.get(reverse("sentry:group", args=[999])).status_code == 404
    assert staff.get(reverse("sentry:messages", args=[999])).status_code == 404


def test_the_traceback_shows_chained_exceptions_in_order_with_their_links(staff):
    message = capture_chained()

    html = staff.get(message.get_absolute_url()).content.decode()

    key = html.index('<span class="exc-type">KeyError</span>')
    zero = html.index('<span class="exc-type">ZeroDivisionError</span>')
    value = html.index('<span class="exc-type">ValueError</span>')
    during = html.index("During handling of the above exception, another exception")
    cause = html.index("The above exception was the direct cause of the following")
    assert key < during < zero < cause < value


def test_frames_show_source_context_and_variables(staff):
    message = record_event("ratio", data=sdk_event_data())

    html = staff.get(message.get_absolute_url()).content.decode()

    assert '<details class="frame in-app" open data-frame>' in html
    assert '<details class="frame library" data-frame>' in html
    assert '<span class="line current"><span class="lineno">26</span>' in html
    # The line's text, highlighted (the highlight extra) or not.
    line = html.index('<span class="lineno">25</span>')
    assert re.sub(r"<[^>]*>", "", html[line : html.index("\n", line)]).startswith(
        "25    try:"
    )
    assert "Local variables (2)" in html
    assert "&#x27;ketchup&#x27;" in html
    assert '<th scope="row">topping</th>' in html


def test_an_sdk_event_shows_every_section(staff):
    message = record_event("ratio", data=sdk_event_data())

    html = staff.get(message.get_absolute_url()).content.decode()

    for text in (
        "The following exception is linked to the one above",
        "unhandled",
        "mechanism: django",
        '<span class="method">POST</span>',
        'href="https://shop.example.com/orders/?page=2"',
        "<caption>Headers</caption>",
        "curl/8.0",
        "<caption>Cookies</caption>",
        "<caption>Body</caption>",
        "jane@example.com",
        '<span class="key">tenant</span> <span class="value">acme</span>',
        "<caption>runtime</caption>",
        "CPython",
        "stock low for SKU-1",
        "2026-11-18 11:06:40.500",  # an epoch breadcrumb timestamp, readable
        "myapp@1.2.3",
        "staging",
        "sentry.python 2.75.0",
        "{{ default }}",
        "sys.argv",
        "Raw data",
    ):
        assert text in html, text


def test_a_logged_message_shows_its_template_and_parameters(staff):
    message = record_event(
        "order 1234 failed",
        data={"logentry": {"message": "order %s failed", "params": [1234]}},
    )

    html = staff.get(message.get_absolute_url()).content.decode()

    assert "order %s failed" in html
    assert "[1234]" in html


def test_the_occurrences_tab_lists_newest_first_a_page_at_a_time(staff):
    group = make_group("x")
    for minute in range(60):
        make_message(group, when=minutes_ago(minute), server_name=f"web-{minute}")
    url = reverse("sentry:messages", args=[group.pk])

    first = staff.get(url)
    second = staff.get(url + f"?after={first.context['page'].next_cursor}")

    servers = [m.server_name for m in first.context["page"]] + [
        m.server_name for m in second.context["page"]
    ]
    assert servers == [f"web-{minute}" for minute in range(60)]
    assert not second.context["page"].has_next
    html = first.content.decode()
    assert html.count('class="when"') == 50
    assert 'rel="next"' in html


def test_the_occurrences_tab_runs_a_fixed_number_of_queries(
    staff, django_assert_num_queries
):
    group = make_group("x")
    for minute in range(70):
        make_message(group, when=minutes_ago(minute))

    # session, user, group, the page.
    with django_assert_num_queries(4):
        staff.get(reverse("sentry:messages", args=[group.pk]))


def test_the_occurrences_tab_takes_the_search_language(staff):
    group = make_group("x")
    for minute in range(120):
        server = "web-1" if minute % 2 else "web-2"
        make_message(group, when=minutes_ago(minute), server_name=server, level=40)
    make_message(group, when=minutes_ago(150), server_name="web-1", level=30)
    url = reverse("sentry:messages", args=[group.pk])

    first = staff.get(url, {"q": "server:web-1 level:error"})
    html = first.content.decode()
    # The pager's link keeps the query.
    next_link = html.split('" rel="next"')[0].rsplit('href="', 1)[1]
    second = staff.get(url + unescape(next_link))

    found = list(first.context["page"]) + list(second.context["page"])
    assert len(found) == 60
    assert {(m.server_name, m.level) for m in found} == {("web-1", 40)}
    assert 'value="server:web-1 level:error"' in html
    assert "data-search-error" not in html


def test_the_occurrences_tab_says_why_a_query_cannot_be_read(staff):
    group = make_group("x")
    make_message(group)

    response = staff.get(
        reverse("sentry:messages", args=[group.pk]), {"q": "user.email:"}
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert list(response.context["page"]) == []
    assert "The search cannot be read: &#x27;user.email:&#x27; has no value" in html


def test_the_occurrences_tab_narrows_by_the_user_and_tags_of_each_occurrence(staff):
    key = make_key()
    for email, plan in (("jane@x.org", "free"), ("bob@x.org", "paid")):
        event = message_event(
            "checkout failed", user={"email": email}, tags={"plan": plan}
        )
        post_events(staff, key, [event])
    group_id = Message.objects.first().group_id
    url = reverse("sentry:messages", args=[group_id])

    def emails(query):
        page = staff.get(url, {"q": query}).context["page"]
        return sorted(m.data["user"]["email"] for m in page)

    assert emails("user.email:jane@x.org") == ["jane@x.org"]
    assert emails("plan:paid") == ["bob@x.org"]
    assert emails("!plan:paid") == ["jane@x.org"]
    assert emails("user.email:*@x.org") == ["bob@x.org", "jane@x.org"]


def test_searching_occurrences_costs_no_query_of_its_own(
    staff, django_assert_num_queries
):
    group = make_group("x")
    make_message(group, server_name="web-1")

    with django_assert_num_queries(4):
        staff.get(
            reverse("sentry:messages", args=[group.pk]),
            {"q": "x server:web-1 !url:*admin* lastSeen:-1d is:unresolved"},
        )


def test_an_occurrence_of_another_group_is_not_found(staff):
    message = make_message(make_group("x"))
    other = make_group("y")

    url = reverse("sentry:message", args=[other.pk, message.message_id])
    assert staff.get(url).status_code == 404


def test_the_raw_data_is_pretty_json(staff):
    message = record_event("x", data={"extra": {"b": 1, "a": "<b>"}})

    response = staff.get(
        reverse("sentry:message_json", args=[message.group_id, message.message_id])
    )

    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(response.content)["extra"] == {"b": 1, "a": "<b>"}
    assert b'\n  "extra": {' in response.content


def test_the_plugin_hooks_are_rendered(staff, monkeypatch):
    group = make_group("x")
    monkeypatch.setattr(
        "sentry.views.groups.group_widgets",
        lambda request, group: ["<p>widget</p>"],
    )
    monkeypatch.setattr(
        "sentry.views.groups.group_panels",
        lambda request, group: [("Servers", "/servers/")],
    )

    html = staff.get(reverse("sentry:group", args=[group.pk])).content.decode()

    # A plain string is escaped: only markup the plugin base class marks safe
    # goes in as HTML.
    assert '<section class="panel widget">&lt;p&gt;widget&lt;/p&gt;</section>' in html
    assert '<a href="/servers/">Servers</a>' in html


@pytest.mark.parametrize("odd", [None, 0, "text", [], {}, [1, "x"], {"x": None}])
def test_an_occurrence_with_odd_data_still_renders(staff, odd):
    keys = ("exception", "request", "user", "tags", "contexts", "breadcrumbs")
    data = dict.fromkeys(keys, odd)
    data["exception"] = {
        "values": [odd, {"type": odd, "stacktrace": {"frames": [odd]}}]
    }
    message = make_message(make_group("x"), data=data)

    assert staff.get(message.get_absolute_url()).status_code == 200
    assert (
        staff.get(reverse("sentry:group", args=[message.group_id])).status_code == 200
    )


def test_a_truncated_occurrence_says_what_was_left_out():
    from django.test import override_settings

    from sentry.client.models import client as sentry_client
    from sentry.models import Message
    from tests.dashboard_factories import staff_client

    def deep(n):
        padding = f"{n}" + "p" * 390  # noqa: F841  (a big local in every frame)
        if n:
            return deep(n - 1)
        raise ValueError("deep")

    with override_settings(SENTRY_MAX_EVENT_SIZE=20_000):
        try:
            deep(40)
        except ValueError:
            message_id = sentry_client.create_from_exception()
    message = Message.objects.get(message_id=message_id)
    assert message.data["_truncated"]

    page = staff_client().get(message.get_absolute_url()).content.decode()

    assert "was cut short; left out: variables of outer frames" in page
    assert "variables of outer frames" in page


@pytest.mark.parametrize("message_id", ["a\x00b", "f" * 33])
@pytest.mark.parametrize("name", ["sentry:message", "sentry:message_json"])
def test_an_occurrence_id_no_row_can_have_is_404(staff, name, message_id):
    group = make_group("x")
    url = reverse(name, args=[group.pk, "placeholder"]).replace(
        "placeholder", quote(message_id)
    )

    assert staff.get(url).status_code == 404


def test_an_occurrence_cut_by_the_capture_time_limit_says_so():
    from django.test import override_settings

    from sentry.client.models import client as sentry_client
    from sentry.models import Message
    from tests.dashboard_factories import staff_client

    class Slow:
        def __repr__(self):
            import time

            time.sleep(0.05)
            return "slow"

    def fail():
        first, second, third = Slow(), Slow(), Slow()  # noqa: F841
        raise ValueError("slow locals")

    with override_settings(SENTRY_CAPTURE_TIME_LIMIT=0.01):
        try:
            fail()
        except ValueError:
            message_id = sentry_client.create_from_exception()
    message = Message.objects.get(message_id=message_id)

    page = staff_client().get(message.get_absolute_url()).content.decode()

    assert (
        "was cut short; left out: values not captured within the capture time limit"
        in page
    )
