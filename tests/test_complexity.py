"""The complexity guard itself: it passes linear work and fails quadratic work."""

import pytest

from .complexity import assert_linear


def linear(text):
    return sum(1 for _ in text)


def quadratic(text):
    return sum(text.count(text[:i]) for i in range(0, len(text), 4))


def test_a_linear_step_passes_the_guard():
    assert_linear(linear, lambda n: "a" * n, 10_000)


def test_a_quadratic_step_fails_the_guard():
    with pytest.raises(AssertionError, match="the input cost"):
        assert_linear(quadratic, lambda n: "a" * n, 200, limit=60)


def test_a_step_over_the_bound_of_seconds_fails_the_guard():
    with pytest.raises(AssertionError, match="bound"):
        assert_linear(linear, lambda n: "a" * n, 10_000, limit=0)
