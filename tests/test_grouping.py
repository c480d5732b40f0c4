"""Which occurrences are the same error."""

import logging

import pytest

from sentry.client.models import client
from sentry.grouping import chain_cause, get_checksum
from sentry.models import GroupedMessage, Message
from tests.factories import fail_with

pytestmark = pytest.mark.django_db


def fail_elsewhere(exc):
    raise exc


def capture(func, exc):
    try:
        func(exc)
    except Exception:
        return client.create_from_exception()


def test_the_same_exception_with_varying_messages_is_one_group():
    for n in range(4):
        capture(fail_with, ValueError(f"order {n} is invalid"))

    group = GroupedMessage.objects.get()
    assert group.times_seen == 4


def test_a_different_code_path_is_another_group():
    capture(fail_with, ValueError("x"))
    capture(fail_elsewhere, ValueError("x"))

    assert GroupedMessage.objects.count() == 2


def test_a_different_exception_type_is_another_group():
    capture(fail_with, ValueError("x"))
    capture(fail_with, TypeError("x"))

    assert GroupedMessage.objects.count() == 2


def test_text_messages_group_by_level_and_text():
    client.create_from_text("disk full")
    client.create_from_text("disk full")
    client.create_from_text("disk full", level=logging.WARNING)
    client.create_from_text("disk nearly full")

    counts = sorted(GroupedMessage.objects.values_list("times_seen", flat=True))
    assert counts == [1, 1, 2]


def test_checksums_are_stable_across_runs():
    event = {"level": 40, "message": "disk full", "data": {}}
    assert get_checksum(event) == get_checksum(dict(event))
    assert len(get_checksum(event)) == 32


def test_a_fingerprint_decides_the_group():
    base = {"level": 40, "message": "a", "data": {}}
    one = get_checksum({**base, "fingerprint": ["payments"]})
    two = get_checksum({**base, "message": "b", "fingerprint": ["payments"]})
    default = get_checksum({**base, "fingerprint": ["{{ default }}", "x"]})
    assert one == two
    assert default != one
    assert default == get_checksum({**base, "fingerprint": ["{{default}}", "x"]})


def test_a_new_occurrence_reopens_a_resolved_group():
    client.create_from_text("comes back")
    GroupedMessage.objects.update(status=GroupedMessage.STATUS_RESOLVED)

    client.create_from_text("comes back")

    group = GroupedMessage.objects.get()
    assert group.status == GroupedMessage.STATUS_UNRESOLVED
    assert group.times_seen == 2


def test_each_occurrence_moves_last_seen_and_the_score():
    client.create_from_text("scored")
    group = GroupedMessage.objects.get()
    first_score, first_seen = group.score, group.last_seen

    client.create_from_text("scored")

    group.refresh_from_db()
    assert group.last_seen >= first_seen
    assert group.score > first_score
    assert group.score == pytest.approx(group.get_score())


@pytest.mark.parametrize(
    "settings_",
    [
        {"SENTRY_SCRUB_FIELDS": ["values"]},
        {"SENTRY_SCRUB_FIELDS": ["frames"]},
        {"SENTRY_SCRUB_FIELDS": ["stacktrace"]},
        {"SENTRY_MAX_DEPTH": 0},
        {"SENTRY_MAX_DEPTH": 1},
    ],
)
def test_an_event_whose_layout_was_masked_or_cut_is_still_grouped(settings, settings_):
    for name, value in settings_.items():
        setattr(settings, name, value)

    for n in range(2):
        assert capture(fail_with, ValueError(f"order {n} is invalid"))

    # Stored and counted; without frames to go by, grouped by the message.
    assert Message.objects.count() == 2
    assert sum(GroupedMessage.objects.values_list("times_seen", flat=True)) == 2


@pytest.mark.parametrize(
    "data",
    [
        {"exception": "[depth]"},
        {"exception": {"values": "********"}},
        {"exception": {"values": ["********", {"type": "E", "stacktrace": "x"}]}},
        {"exception": {"values": [{"type": "E", "stacktrace": {"frames": "cut"}}]}},
        {"logentry": {"message": ["not", "text"]}},
        "not a dict",
    ],
)
def test_a_checksum_is_computed_whatever_data_holds(data):
    checksum = get_checksum({"data": data, "message": "boom", "level": 40})

    assert len(checksum) == 32


def test_the_cause_of_a_chain_is_its_first_exceptions_type():
    def data(*values):
        return {"exception": {"values": list(values)}}

    cause = {"type": "StorageError", "mechanism": {"source": "__cause__"}}
    raised = {"type": "OrderError"}
    assert chain_cause(data(cause, raised)) == "StorageError"
    assert chain_cause(data(raised)) is None
    assert chain_cause({}) is None
    assert chain_cause(None) is None
    # The members of an exception group are not its causes.
    member = {"type": "KeyError", "mechanism": {"source": "exceptions[0]"}}
    assert chain_cause(data(raised, member)) is None
    assert chain_cause(data({"type": None}, raised)) is None
