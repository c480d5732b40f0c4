"""The size bound of one occurrence (SENTRY_MAX_EVENT_SIZE)."""

import pytest

from sentry.limits import enforce_size, size_of


def frame(n):
    return {
        "function": f"f{n}",
        "vars": {"blob": f"{n}" + "x" * 500},
        "pre_context": [f"line {n} {k}" for k in range(5)],
        "post_context": [f"after {n} {k}" for k in range(5)],
    }


def big_event():
    frames = [frame(n) for n in range(30)]
    return {
        "exception": {"values": [{"type": "E", "stacktrace": {"frames": frames}}]},
        "extra": {"blob": "y" * 5000},
    }


def test_an_event_over_the_limit_loses_its_least_useful_parts_first():
    data = enforce_size(big_event(), limit=13_000)

    assert size_of(data) <= 13_000
    assert data["_truncated"] == ["variables of outer frames"]
    frames = data["exception"]["values"][0]["stacktrace"]["frames"]
    assert "vars" not in frames[0] and "vars" in frames[-1]


def test_frames_are_cut_when_nothing_else_is_left():
    data = enforce_size(big_event(), limit=1_000)

    # The last steps go as far as they can; what is left is the exception.
    assert "frames" in data["_truncated"]
    frames = data["exception"]["values"][0]["stacktrace"]["frames"]
    assert len(frames) == 10


@pytest.mark.parametrize(
    "exception",
    [
        "********",
        {"values": "********"},
        {"values": ["[depth]", {"stacktrace": "cut"}]},
        {"values": [{"stacktrace": {"frames": ["[depth]", frame(1)] * 20}}]},
    ],
)
def test_a_masked_or_cut_layout_is_bounded_too(exception):
    data = {"exception": exception, "extra": {"blob": "y" * 5000}}

    data = enforce_size(data, limit=3_000)

    assert size_of(data) <= 3_000
    assert data["_truncated"]
