"""
A capture's time budget (SENTRY_CAPTURE_TIME_LIMIT) and its re-entrancy guard.

Each case is one that stalled the host before: a capture must return within
the budget plus a generous allowance (a guard, not a benchmark), store the
occurrence, and say what it cut.
"""

import array
import collections
import logging
import time

import pytest
from django.test import override_settings

from sentry.client.handlers import SentryHandler
from sentry.client.models import client
from sentry.client.queued import QueuedSentryClient
from sentry.models import Message
from sentry.utils.shaping import CUT_LABEL, CUT_MARK

pytestmark = pytest.mark.django_db

#: The budget the tests run with, and what a capture may take on top of it on
#: a busy machine (a guard against seconds, not a benchmark).
LIMIT = 0.05
ALLOWANCE = 1.0


class SlowRepr:
    """A ``__repr__`` that takes ``seconds``, and counts its calls."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.calls = 0

    def __repr__(self):
        self.calls += 1
        time.sleep(self.seconds)
        return "<slow>"


class CapturingRepr:
    """A ``__repr__`` that records an error itself."""

    def __init__(self):
        self.results = []

    def __repr__(self):
        try:
            raise RuntimeError("raised inside __repr__")
        except RuntimeError:
            self.results.append(client.create_from_exception())
        self.results.append(client.create_from_text("from inside __repr__"))
        return "<capturing>"


class LoggingRepr:
    """A ``__repr__`` that logs an error through the handler (the first time)."""

    def __init__(self, logger):
        self.logger = logger
        self.calls = 0

    def __repr__(self):
        self.calls += 1
        if self.calls == 1:
            # Only once: other handlers (pytest's) format records as well.
            self.logger.error("logged from inside __repr__")
        return "<logging>"


class SlowIterDict(dict):
    def __iter__(self):
        for key in dict.__iter__(self):
            time.sleep(0.01)
            yield key

    def keys(self):
        return list(self.__iter__())

    def __len__(self):
        time.sleep(1)
        return dict.__len__(self)


class HugeStr(str):
    def __str__(self):
        time.sleep(1)
        return str.__str__(self)

    __repr__ = __str__


def fail_in_frames(value, depth=4, make=None):
    """Raise from ``depth`` nested frames, each holding ``value`` as a local."""
    held = value  # noqa: F841  (captured as a frame variable)
    own = make() if make else None  # noqa: F841  (one per frame)
    if depth:
        fail_in_frames(value, depth - 1, make)
    raise ValueError("failed holding a hostile local")


def capture_with_local(value, depth=4, make=None):
    """Record an exception raised with ``value`` in every frame; time it."""
    start = time.monotonic()
    try:
        fail_in_frames(value, depth, make)
    except ValueError:
        message_id = client.create_from_exception()
    return message_id, time.monotonic() - start


def stored(message_id):
    assert message_id is not None, "nothing was recorded"
    return Message.objects.get(message_id=message_id)


def innermost_vars(message):
    frames = message.data["exception"]["values"][-1]["stacktrace"]["frames"]
    return frames[-1].get("vars", {})


def was_cut(message):
    return CUT_LABEL in message.data.get("_truncated", [])


@pytest.fixture(autouse=True)
def _budget(settings):
    settings.SENTRY_CAPTURE_TIME_LIMIT = LIMIT


@pytest.fixture
def shop_logger():
    logger = logging.getLogger("shop.budget")
    handler = SentryHandler()
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_a_slow_repr_held_by_several_frames_is_called_once():
    slow = SlowRepr(0.3)

    message_id, elapsed = capture_with_local(slow, depth=4)

    assert slow.calls == 1
    assert elapsed < 0.3 + ALLOWANCE
    frames = stored(message_id).data["exception"]["values"][-1]["stacktrace"]
    assert [frame["vars"]["held"] for frame in frames["frames"][-5:]] == ["<slow>"] * 5


def test_slow_reprs_past_the_limit_are_not_called_and_the_cut_is_marked():
    made = []

    def make():
        made.append(SlowRepr(0.3))
        return made[-1]

    message_id, elapsed = capture_with_local("plain", depth=4, make=make)

    assert sum(slow.calls for slow in made) == 1
    assert elapsed < 0.3 + ALLOWANCE
    message = stored(message_id)
    assert was_cut(message)
    owns = [
        frame["vars"]["own"]
        for frame in message.data["exception"]["values"][-1]["stacktrace"]["frames"][
            -5:
        ]
    ]
    assert owns == ["<SlowRepr object>"] * 4 + ["<slow>"]


def test_containers_past_the_limit_are_cut_and_marked():
    slow = SlowRepr(0.1)

    message_id = client.create_from_text(
        "cut", data={"first": slow, "later": {"nested": [1, 2]}}
    )

    extra = stored(message_id).data["extra"]
    assert extra == {"first": "<slow>", "later": CUT_MARK}


def test_the_innermost_frame_gets_the_budget_first():
    slow = SlowRepr(0.3)

    message_id, _ = capture_with_local(slow, depth=4)

    assert innermost_vars(stored(message_id))["held"] == "<slow>"


def test_a_million_item_frozenset_is_sampled_not_sorted():
    huge = frozenset(range(1_000_000))

    message_id, elapsed = capture_with_local(huge, depth=1)

    assert elapsed < LIMIT + ALLOWANCE
    held = innermost_vars(stored(message_id))["held"]
    assert len(held) == 51
    assert held[-1] == "... (999950 more items)"


def test_a_three_million_item_array_is_sampled_not_printed():
    huge = array.array("i", range(3_000_000))

    message_id, elapsed = capture_with_local(huge, depth=1)

    assert elapsed < LIMIT + ALLOWANCE
    held = innermost_vars(stored(message_id))["held"]
    assert held[:3] == [0, 1, 2]
    assert held[-1] == "... (2999950 more items)"


@pytest.mark.parametrize(
    "make",
    [
        lambda: collections.deque(range(3_000_000)),
        lambda: dict.fromkeys(range(1_000_000)).keys(),
        lambda: dict.fromkeys(range(1_000_000)).items(),
        lambda: set(range(1_000_000)),
        lambda: bytearray(50_000_000),
    ],
    ids=["deque", "dict_keys", "dict_items", "set", "bytearray"],
)
def test_huge_builtin_containers_cost_what_the_limits_keep(make):
    message_id, elapsed = capture_with_local(make(), depth=1)

    assert elapsed < LIMIT + ALLOWANCE
    assert innermost_vars(stored(message_id))["held"]


def test_a_generator_local_is_described_never_consumed():
    consumed = []

    def numbers():
        for n in range(10):
            consumed.append(n)
            yield n

    message_id, elapsed = capture_with_local(numbers(), depth=1)

    assert consumed == []
    assert "generator" in innermost_vars(stored(message_id))["held"]


def test_a_huge_dict_subclass_with_a_slow_iter_is_not_iterated_through_it():
    huge = SlowIterDict.fromkeys(range(1_000_000), "v")

    message_id, elapsed = capture_with_local(huge, depth=1)

    assert elapsed < LIMIT + ALLOWANCE
    held = innermost_vars(stored(message_id))["held"]
    assert held["0"] == "v"
    assert held["..."] == "(999950 more items)"


def test_a_huge_str_subclass_is_cut_without_calling_it():
    huge = HugeStr("x" * 50_000_000)

    message_id, elapsed = capture_with_local(huge, depth=2)

    assert elapsed < LIMIT + ALLOWANCE
    held = innermost_vars(stored(message_id))["held"]
    assert held.startswith("xxx") and len(held) == 400


def test_a_repr_that_captures_is_refused_and_logged_once(sentry_errors):
    capturing = CapturingRepr()

    message_id, elapsed = capture_with_local(capturing, depth=3)

    assert elapsed < LIMIT + ALLOWANCE
    stored(message_id)
    assert capturing.results and set(capturing.results) == {None}
    assert Message.objects.count() == 1
    refusals = [r for r in sentry_errors if "already capturing" in r.getMessage()]
    assert len(refusals) == 1


def test_a_repr_that_logs_through_the_handler_is_refused(shop_logger, sentry_errors):
    logging_repr = LoggingRepr(shop_logger)

    message_id, elapsed = capture_with_local(logging_repr, depth=3)

    assert elapsed < LIMIT + ALLOWANCE
    stored(message_id)
    assert logging_repr.calls == 1
    assert Message.objects.count() == 1
    assert len([r for r in sentry_errors if "already capturing" in r.getMessage()]) == 1


def test_a_record_whose_argument_logs_again_is_recorded_once(
    shop_logger, sentry_errors
):
    logging_repr = LoggingRepr(shop_logger)

    shop_logger.error("value: %r", logging_repr)

    assert Message.objects.count() == 1
    assert Message.objects.get().message == "value: <logging>"


def test_a_slow_text_message_is_asked_once():
    slow = SlowRepr(0.2)
    slow.__class__.__str__ = slow.__class__.__repr__
    try:
        start = time.monotonic()
        message_id = client.create_from_text(slow, data={"again": slow})
        elapsed = time.monotonic() - start
    finally:
        del slow.__class__.__str__

    assert slow.calls == 1
    assert elapsed < 0.2 + ALLOWANCE
    stored(message_id)


def test_after_the_limit_no_user_code_is_called():
    slow = SlowRepr(0.1)
    others = [SlowRepr(0.1) for _ in range(20)]

    start = time.monotonic()
    message_id = client.create_from_text("many", data={"first": slow, "rest": others})
    elapsed = time.monotonic() - start

    assert slow.calls + sum(other.calls for other in others) == 1
    assert elapsed < 0.1 + ALLOWANCE
    assert was_cut(stored(message_id))


def test_a_capture_within_the_limit_is_not_marked():
    message_id, _ = capture_with_local({"plain": [1, 2, 3]}, depth=2)

    assert not was_cut(stored(message_id))


@override_settings(SENTRY_CAPTURE_TIME_LIMIT=None)
def test_no_limit_captures_everything():
    slow = SlowRepr(0.06)

    message_id, _ = capture_with_local(slow, depth=1)

    assert not was_cut(stored(message_id))
    assert slow.calls == 1


def test_a_capture_after_a_refused_one_works_again():
    capture_with_local(CapturingRepr(), depth=1)

    assert client.create_from_text("later") is not None


def test_a_huge_container_given_as_a_tag_or_message_is_not_printed_in_full():
    huge = array.array("i", range(3_000_000))

    start = time.monotonic()
    message_id = client.create_from_text(huge, tags={"big": huge}, logger=huge)
    elapsed = time.monotonic() - start

    assert elapsed < LIMIT + ALLOWANCE
    assert stored(message_id).message.startswith("[0, 1, 2")


@pytest.mark.django_db(transaction=True)
def test_other_threads_capture_while_one_thread_is_in_a_slow_repr():
    import threading

    entered, release = threading.Event(), threading.Event()

    class Blocking:
        def __repr__(self):
            entered.set()
            release.wait(5)
            return "<blocking>"

    results = {}

    def capture_blocking():
        from django.db import connection

        try:
            results["slow"] = client.create_from_text("slow", data={"b": Blocking()})
        finally:
            connection.close()

    thread = threading.Thread(target=capture_blocking)
    thread.start()
    try:
        assert entered.wait(5)
        results["other"] = client.create_from_text("meanwhile")
    finally:
        release.set()
        thread.join()

    assert results["other"] is not None and results["slow"] is not None


@pytest.mark.parametrize("limit", ["soon", -1, float("nan"), True, [1]])
def test_a_limit_that_makes_no_sense_never_breaks_a_capture(limit, settings):
    settings.SENTRY_CAPTURE_TIME_LIMIT = limit

    assert client.create_from_text("odd limit") is not None


class LinkedByProperties(Exception):
    """An exception whose links to other exceptions are the host's code."""

    calls = []

    def __getattr__(self, name):
        self.calls.append(name)
        time.sleep(0.1)
        raise AttributeError(name)

    for _name in ("__cause__", "__context__", "__suppress_context__", "__traceback__"):
        locals()[_name] = property(
            lambda self, name=_name: self.calls.append(name) or time.sleep(0.1)
        )
    del _name


def test_the_links_of_an_exception_are_read_without_calling_the_host():
    LinkedByProperties.calls = []
    try:
        raise LinkedByProperties("linked") from ValueError("cause")
    except LinkedByProperties:
        message_id = client.create_from_exception()

    # skip_sentry is asked for once (the one call that may overrun); the
    # links, as Python stores them, without the subclass's properties.
    assert LinkedByProperties.calls == ["skip_sentry"]
    values = stored(message_id).data["exception"]["values"]
    assert [value["type"] for value in values] == ["ValueError", "LinkedByProperties"]
    assert values[-1]["stacktrace"]["frames"]


class QueueingRepr:
    """A ``__repr__`` that queues an event through the queued client."""

    def __init__(self):
        self.results = []

    def __repr__(self):
        self.results.append(QueuedSentryClient().process(message="from __repr__"))
        return "<queueing>"


@pytest.mark.parametrize("outer", [client, QueuedSentryClient()])
def test_a_repr_that_queues_an_event_is_refused(outer, sentry_errors):
    queueing = QueueingRepr()

    assert outer.create_from_text("outer", data={"value": queueing})

    assert queueing.results == [None]


def test_the_queued_client_called_directly_keeps_the_time_budget():
    slow = [SlowRepr(0.1) for _ in range(10)]

    start = time.monotonic()
    assert QueuedSentryClient().process(message="direct", data={"slow": slow})
    elapsed = time.monotonic() - start

    assert sum(value.calls for value in slow) == 1
    assert elapsed < 0.1 + ALLOWANCE
