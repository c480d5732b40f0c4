"""Events per hour from the per-minute counters: one query, exact buckets."""

import datetime as dt

import pytest

from sentry import trends
from tests.dashboard_factories import count_minute, make_group

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 1, 12, 30, 15, tzinfo=dt.UTC)


def test_the_window_ends_with_the_current_hour():
    start, end = trends.window(3, NOW)

    assert start == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 3, 1, 13, tzinfo=dt.UTC)


def test_counts_land_in_their_hour_even_on_the_boundaries():
    group = make_group("x")
    start, end = trends.window(3, NOW)
    count_minute(group, start, 1)  # the first minute of the first hour
    count_minute(group, start + dt.timedelta(minutes=59), 2)
    count_minute(group, start + dt.timedelta(hours=1), 4)
    count_minute(group, end - dt.timedelta(minutes=1), 8)  # the last minute
    count_minute(group, end, 100)  # the next hour: not shown
    count_minute(group, start - dt.timedelta(minutes=1), 100)  # before: not shown

    assert trends.hourly_counts([group.pk], 3, NOW) == {group.pk: [3, 4, 8]}


def test_every_group_gets_a_series_in_one_query(django_assert_num_queries):
    quiet, busy = make_group("quiet"), make_group("busy")
    count_minute(busy, NOW, 5)

    with django_assert_num_queries(1):
        series = trends.hourly_counts([quiet.pk, busy.pk], 24, NOW)

    assert series[quiet.pk] == [0] * 24
    assert series[busy.pk] == [0] * 23 + [5]


def test_no_group_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert trends.hourly_counts([], 24) == {}


def test_a_group_trend_over_a_named_range():
    group = make_group("x")
    count_minute(group, NOW - dt.timedelta(days=6), 7)

    trend = trends.group_trend(group.pk, "7d", NOW)

    assert len(trend.counts) == 168
    assert trend.total == 7 and trend.peak == 7
    assert trend.label == "7 days"
    assert trends.group_trend(group.pk, "nonsense", NOW).label == "24 hours"


def test_projects_sum_their_groups_counts_per_hour_in_one_query(
    django_assert_num_queries,
):
    from tests.ingest_factories import make_project

    shop, quiet = make_project(2, slug="shop"), make_project(3, slug="quiet")
    first, second = make_group("a", project=shop), make_group("b", project=shop)
    elsewhere = make_group("c")
    start, end = trends.window(3, NOW)
    count_minute(first, start, 1)
    count_minute(second, start + dt.timedelta(minutes=30), 2)
    count_minute(second, end - dt.timedelta(minutes=1), 4)
    count_minute(first, end, 100)  # the next hour: not shown
    count_minute(elsewhere, start, 100)  # another project

    with django_assert_num_queries(1):
        series = trends.hourly_counts_by_project([shop.pk, quiet.pk], 3, NOW)

    assert series == {shop.pk: [3, 0, 4], quiet.pk: [0, 0, 0]}


def test_no_project_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert trends.hourly_counts_by_project([], 24) == {}
