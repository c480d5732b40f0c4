"""Keyset pages: cursors that survive the URL, pages without gaps."""

import datetime as dt

import pytest

from sentry import pagination
from sentry.models import GroupedMessage
from tests.dashboard_factories import make_group

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC), "datetime"),
        (dt.datetime(1999, 12, 31, tzinfo=dt.UTC), "datetime"),
        (1795590123.456789, "float"),
        (-0.5, "float"),
        (42, "int"),
    ],
)
def test_cursor_values_come_back_exactly(value, kind):
    assert pagination.decode_value(pagination.encode_value(value), kind) == value


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "int"),
        ("12", "int"),
        ("x_1", "int"),
        ("1_x", "int"),
        ("inf_1", "float"),
        ("99999999999999999999999_1", "datetime"),
        ("-99999999999999999_1", "datetime"),
    ],
)
def test_broken_cursors_are_ignored(text, kind):
    assert pagination.parse_cursor(text, kind) is None


def titles(page):
    return [group.message for group in page]


def test_pages_walk_forward_and_back_over_ties():
    for index in range(7):
        make_group(f"g{index}", times_seen=index // 3)  # ties of three
    groups = GroupedMessage.objects.all()

    first = pagination.paginate(groups, "times_seen", "int", {}, 3)
    second = pagination.paginate(
        groups, "times_seen", "int", {"after": first.next_cursor}, 3
    )
    third = pagination.paginate(
        groups, "times_seen", "int", {"after": second.next_cursor}, 3
    )
    back = pagination.paginate(
        groups, "times_seen", "int", {"before": second.previous_cursor}, 3
    )

    assert titles(first) == ["g6", "g5", "g4"]
    assert titles(second) == ["g3", "g2", "g1"]
    assert titles(third) == ["g0"]
    assert not third.has_next and third.has_previous
    assert titles(back) == titles(first) and not back.has_previous
    assert first.is_first and not second.is_first


def test_an_empty_table_is_one_empty_page():
    page = pagination.paginate(GroupedMessage.objects.all(), "score", "float", {}, 50)

    assert list(page) == [] and not page.has_next and not page.has_previous


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("\u00b2_1", "int"),
        ("1_\u00b2", "int"),
        ("\u0661_1", "int"),
        ("1_\u0661", "float"),
        ("\u0661.5_1", "float"),
        ("1_000.5_1", "float"),
        (" 1.5_1", "float"),
        ("nan_1", "float"),
        ("1e400_1", "float"),
        (f"1_{2**63}", "int"),
        (f"{2**63}_1", "int"),
        ("1_" + "9" * 400, "datetime"),
        ("\u0661_1", "datetime"),
        ("--1_1", "datetime"),
        ("1\x00_1", "int"),
        ("_" * 1000, "int"),
    ],
)
def test_cursors_are_read_strictly(text, kind):
    assert pagination.parse_cursor(text, kind) is None


def test_a_cursor_before_1970_comes_back_exactly():
    value = dt.datetime(1969, 7, 20, 20, 17, 40, 5, tzinfo=dt.UTC)

    decoded = pagination.decode_value(pagination.encode_value(value), "datetime")

    assert decoded == value
