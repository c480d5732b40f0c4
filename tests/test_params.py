"""Query parameters read strictly: ASCII digits in range, storable text."""

import pytest

from sentry.params import MAX_BIGINT, can_be_stored, parse_int


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("42", 42), ("007", 7), (str(MAX_BIGINT), MAX_BIGINT)],
)
def test_ascii_digits_in_range_are_numbers(text, expected):
    assert parse_int(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "\u00b2",
        "\u0663",
        "\uff11",
        " 1",
        "1 ",
        "+1",
        "-1",
        "1_000",
        "1.0",
        "0x10",
        str(MAX_BIGINT + 1),
        "9" * 100_000,
        "1\x00",
    ],
)
def test_anything_else_is_not_a_number(text):
    assert parse_int(text) is None


def test_bounds_are_inclusive():
    assert parse_int("5", minimum=5, maximum=5) == 5
    assert parse_int("4", minimum=5) is None
    assert parse_int("6", maximum=5) is None


def test_text_with_a_nul_or_too_long_cannot_be_stored():
    assert can_be_stored("web-1\x0b", 200)
    assert not can_be_stored("web\x00-1")
    assert not can_be_stored("x" * 201, 200)
