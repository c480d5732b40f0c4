"""The dashboard's template helpers."""

import datetime as dt

import pytest

from sentry.templatetags.sentry_tags import (
    event_link,
    isotime,
    reltime,
    sparkline,
    trend_chart,
)
from sentry.trends import Trend

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("ago", "text"),
    [
        (dt.timedelta(seconds=5), "just now"),
        (dt.timedelta(seconds=-30), "just now"),
        (dt.timedelta(minutes=1), "1 minute ago"),
        (dt.timedelta(minutes=59), "59 minutes ago"),
        (dt.timedelta(hours=2), "2 hours ago"),
        (dt.timedelta(days=1), "1 day ago"),
        (dt.timedelta(days=29), "29 days ago"),
        (dt.timedelta(days=45), "2026-01-15"),
    ],
)
def test_relative_times_read_like_sentry_js(ago, text):
    assert reltime(NOW - ago, NOW) == text


def test_times_for_time_elements_are_utc_iso():
    moment = dt.datetime(2026, 3, 1, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))

    assert isotime(moment) == "2026-03-01T12:00:00+00:00"
    assert isotime(None) == ""


def test_only_http_urls_become_links():
    assert event_link("https://a.example/?x=<1>") == (
        '<a href="https://a.example/?x=&lt;1&gt;" rel="nofollow noopener noreferrer"'
        ' class="external">https://a.example/?x=&lt;1&gt;</a>'
    )
    assert event_link("javascript:alert(1)") == "<span>javascript:alert(1)</span>"
    assert event_link("<b>") == "<span>&lt;b&gt;</span>"


def test_a_sparkline_draws_one_bar_per_busy_hour():
    svg = sparkline([0, 1, 0, 4] + [0] * 20)

    assert svg.count("<rect") == 2
    assert 'aria-label="5 in the last 24 hours"' in svg
    assert '<rect x="12" y="0" width="3" height="22">' in svg
    assert '<rect x="4" y="16" width="3" height="6">' in svg
    assert sparkline([]) == ""


def test_the_trend_chart_labels_its_range():
    start = NOW - dt.timedelta(hours=24)
    svg = trend_chart(Trend([0] * 23 + [9], start, NOW, "24 hours"))

    assert "9 events in the last 24 hours, at most 9 in an hour" in svg
    assert "Feb 28 12:00 UTC" in svg and "Mar 01 12:00 UTC" in svg
    assert svg.count("z") == 1  # one bar
