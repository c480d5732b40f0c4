"""
A stream filtered by a value shows the counts of the events with that value.

Events go through the SDK envelope endpoint; the rows are read from the page
and from its live-update JSON, which draws the same rows.
"""

import datetime as dt
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sentry import trends
from sentry.models import GroupedMessage, ValueCountByHour
from sentry.stream import StreamQuery
from sentry.tags import TREND_KEYS
from tests.dashboard_factories import staff_client
from tests.ingest_factories import make_key, message_event, post_events

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def hours_ago(hours, minutes=0):
    return NOW - dt.timedelta(hours=hours, minutes=minutes)


@pytest.fixture
def key():
    return make_key()


@pytest.fixture
def staff():
    return staff_client()


def send(client, key, message, when, **fields):
    post_events(
        client, key, [message_event(message, timestamp=when.timestamp(), **fields)]
    )


@pytest.fixture
def shop(client, key):
    """
    "card declined": 5 events in production now, 1 in staging 3 hours ago;
    "stock is negative": 3 in staging, the last 1 hour ago;
    "cron skipped": production only.
    """
    for minute in range(5):
        send(
            client, key, "card declined", hours_ago(0, minute), environment="production"
        )
    send(
        client,
        key,
        "card declined",
        hours_ago(3),
        environment="staging",
        tags={"tenant": "acme"},
    )
    for hours in (5, 2, 1):
        send(
            client,
            key,
            "stock is negative",
            hours_ago(hours),
            environment="staging",
            tags={"tenant": "acme"},
        )
    send(client, key, "cron skipped", hours_ago(0), environment="production")


def rows(staff, **params):
    """Return the stream's first page as the live updates draw it."""
    response = staff.get(reverse("sentry:poll"), params)
    assert response.status_code == 200
    return response.json()["rows"]


def titles(found):
    return [row["title"] for row in found]


def test_counts_and_last_seen_are_those_of_the_value(staff, shop):
    found = {row["title"]: row for row in rows(staff, q="environment:staging")}
    assert sorted(found) == ["card declined", "stock is negative"]
    assert found["card declined"]["times_seen"] == 1
    assert found["stock is negative"]["times_seen"] == 3
    # The staging event of "card declined", not its newer production ones.
    seen = dt.datetime.fromisoformat(found["card declined"]["last_seen"])
    assert abs(seen - hours_ago(3)) < dt.timedelta(seconds=1)
    first = dt.datetime.fromisoformat(found["stock is negative"]["first_seen"])
    assert abs(first - hours_ago(5)) < dt.timedelta(seconds=1)


def test_the_whole_group_is_unchanged_in_the_database(staff, shop):
    rows(staff, q="environment:staging")
    group = GroupedMessage.objects.get(message="card declined")
    assert group.times_seen == 6


@pytest.mark.parametrize(
    "sort, expected",
    [
        # 3 events against 1.
        ("freq", ["stock is negative", "card declined"]),
        # Staging's last: 1 hour ago against 3 (the group's own is now).
        ("date", ["stock is negative", "card declined"]),
        # Staging's first: 3 hours ago against 5.
        ("new", ["card declined", "stock is negative"]),
        # More events and more recent.
        ("priority", ["stock is negative", "card declined"]),
    ],
)
def test_sorts_follow_the_values_counters(staff, shop, sort, expected):
    assert titles(rows(staff, q="environment:staging", sort=sort)) == expected


def test_unscoped_sorts_are_those_of_the_whole_group(staff, shop):
    # Without the filter "card declined" (6 events, seen now) comes first.
    found = rows(staff, sort="freq")
    assert titles(found)[0] == "card declined"
    assert found[0]["times_seen"] == 6


def test_sparklines_are_of_the_value(staff, shop):
    found = {row["title"]: row for row in rows(staff, q="environment:staging")}
    hours = trends.SPARKLINE_HOURS
    start, _ = trends.window(hours)
    # One staging event of "card declined", in the hour 3 hours ago; none
    # of its production events.
    trend = found["card declined"]["trend"]
    assert sum(trend) == 1
    assert trend[int((hours_ago(3) - start) // trends.HOUR)] == 1
    assert sum(found["stock is negative"]["trend"]) == 3


def test_a_key_without_hourly_counts_scopes_counts_not_sparklines(staff, shop):
    found = {row["title"]: row for row in rows(staff, q="tenant:acme")}
    assert found["card declined"]["times_seen"] == 1
    # The group's sparkline, all of its 6 events (the page says so).
    assert sum(found["card declined"]["trend"]) == 6
    page = staff.get(reverse("sentry:index"), {"q": "tenant:acme"})
    notice = re.search(r"<p class=\"notice\" data-scope>(.*?)</p>", page.text, re.S)
    assert notice is not None
    assert "trends are of all their events" in notice[1]


def test_the_page_says_what_the_counts_are_of(staff, shop):
    page = staff.get(reverse("sentry:index"), {"q": "environment:staging"})
    notice = re.search(r"<p class=\"notice\" data-scope>(.*?)</p>", page.text, re.S)
    assert notice is not None
    assert "<code>environment:staging</code>" in notice[1]
    assert "trends" in notice[1]
    assert "trends are of all" not in notice[1]


@pytest.mark.parametrize(
    "query",
    ["!environment:staging", "environment:stag*", "has:environment", "level:warning"],
)
def test_other_terms_do_not_scope(staff, shop, query):
    page = staff.get(reverse("sentry:index"), {"q": query})
    assert "data-scope" not in page.text
    for row in rows(staff, q=query):
        group = GroupedMessage.objects.get(pk=row["id"])
        assert row["times_seen"] == group.times_seen


def test_the_first_value_term_scopes(staff, shop):
    found = {
        row["title"]: row for row in rows(staff, q="tenant:acme environment:staging")
    }
    # Both terms hold for both groups' staging events; the counts are those
    # of tenant:acme, the first term, as the page says.
    assert found["stock is negative"]["times_seen"] == 3
    page = staff.get(reverse("sentry:index"), {"q": "tenant:acme environment:staging"})
    assert "<code>tenant:acme</code>" in page.text


def test_hostile_value_is_escaped_in_the_notice(staff, shop):
    page = staff.get(reverse("sentry:index"), {"q": 'environment:"<b>x</b>"'})
    assert "<b>x</b>" not in page.text
    assert "&lt;b&gt;x&lt;/b&gt;" in page.text


def test_pages_of_a_scoped_stream_follow_on(client, key, rf):
    """Cursors of the scoped sorts carry the value's counters, page to page."""
    staff = get_user_model().objects.create_user("s", is_staff=True)
    for number in range(7):
        for repeat in range(number + 1):
            when = hours_ago(number, repeat)
            send(client, key, f"error {number}", when, environment="staging")
        send(client, key, f"error {number}", hours_ago(0), environment="production")
    for sort in ("freq", "date", "new", "priority"):
        seen, params = [], {"q": "environment:staging", "sort": sort}
        for _ in range(10):
            request = rf.get("/", params)
            request.user = staff
            page = StreamQuery(request).page(page_size=3)
            seen += [group.scoped_times_seen for group in page.items]
            if not page.next_cursor:
                break
            params["after"] = page.next_cursor
        # Every group once; "freq" from most to fewest staging events.
        assert len(seen) == 7, sort
        if sort == "freq":
            assert seen == [7, 6, 5, 4, 3, 2, 1]


def test_query_count_does_not_grow_with_rows(staff, client, key):
    def count_queries(q):
        with CaptureQueriesContext(connection) as queries:
            response = staff.get(reverse("sentry:index"), {"q": q})
        assert response.status_code == 200
        return len(queries)

    send(client, key, "first", hours_ago(1), environment="staging")
    few = count_queries("environment:staging")
    for number in range(12):
        send(client, key, f"more {number}", hours_ago(2), environment="staging")
    assert count_queries("environment:staging") == few


def test_cleanup_deletes_old_value_hours(client, key):
    # 29 days back: the oldest the endpoint takes as sent is 30. The group
    # stays (seen now); its old hours go.
    send(client, key, "same", NOW - dt.timedelta(days=29), environment="staging")
    send(client, key, "same", hours_ago(1), environment="staging")
    cutoff = NOW - dt.timedelta(days=20)
    assert ValueCountByHour.objects.filter(date__lt=cutoff).exists()
    call_command("cleanup_sentry", "--days", "20", stdout=StringIO())
    assert GroupedMessage.objects.filter(message="same").exists()
    assert not ValueCountByHour.objects.filter(date__lt=cutoff).exists()
    assert ValueCountByHour.objects.filter(key="tag:environment").count() == 1


def test_only_trend_keys_keep_hourly_counts(client, key):
    send(
        client,
        key,
        "tagged",
        hours_ago(1),
        environment="staging",
        release="shop@1.0",
        tags={"tenant": "acme"},
        user={"id": "7"},
    )
    keys = set(ValueCountByHour.objects.values_list("key", flat=True))
    assert {"tag:environment", "tag:release", "server_name"} <= keys
    assert keys <= TREND_KEYS


def test_the_environment_selector_scopes_the_counts_too(staff, shop):
    found = {row["title"]: row for row in rows(staff, environment="staging")}
    assert sorted(found) == ["card declined", "stock is negative"]
    assert found["card declined"]["times_seen"] == 1
    assert sum(found["card declined"]["trend"]) == 1
    assert titles(rows(staff, environment="staging", sort="freq")) == [
        "stock is negative",
        "card declined",
    ]
    page = staff.get(reverse("sentry:index"), {"environment": "staging"})
    assert "<code>environment:staging</code>" in page.text


def test_a_search_term_scopes_before_the_selector(staff, shop):
    # The selector still narrows (seen in production); the counts are those
    # of the term (the one tenant:acme event of "card declined").
    found = rows(staff, environment="production", q="tenant:acme")
    assert [(row["title"], row["times_seen"]) for row in found] == [
        ("card declined", 1)
    ]
