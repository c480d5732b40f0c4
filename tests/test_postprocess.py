"""The plugins' post_process hook: after commit, off the recording thread."""

import os
import threading
import time

import pytest
from django.core import mail
from django.test import override_settings

from sentry import postprocess
from sentry.client.models import client
from sentry.digest import drain
from sentry.models import GroupedMessage, Message
from sentry.plugins.testing import plugin_installed
from tests.ingest_factories import make_key, make_project, message_event, post_events
from tests.plugins.recorder.apps import RecorderPlugin

pytestmark = pytest.mark.django_db

recorder = plugin_installed("tests.plugins.recorder")
queued_only = override_settings(SENTRY_DIGEST="worker", SENTRY_THRASHING_LIMIT=0)


@pytest.fixture(autouse=True)
def fresh_recorder():
    RecorderPlugin.reset()
    yield
    RecorderPlugin.gate = None
    assert postprocess.flush()
    RecorderPlugin.reset()


def calls():
    assert postprocess.flush(), "the post-processing queue did not drain"
    return RecorderPlugin.calls


@recorder
def test_each_recorded_event_reaches_the_hook_with_its_group_and_state():
    client.create_from_text("queue stalled")
    client.create_from_text("queue stalled")
    GroupedMessage.objects.update(status=GroupedMessage.STATUS_RESOLVED)
    client.create_from_text("queue stalled")

    first, second, third = calls()
    group = GroupedMessage.objects.get()
    assert [(c["is_new"], c["is_regression"]) for c in (first, second, third)] == [
        (True, False),
        (False, False),
        (False, True),
    ]
    assert {c["group"].pk for c in (first, second, third)} == {group.pk}
    stored = list(Message.objects.order_by("pk").values_list("pk", flat=True))
    assert [c["event"].pk for c in (first, second, third)] == stored
    assert first["event"].message == "queue stalled"
    assert first["kwargs"] == {}


@recorder
def test_the_group_comes_with_its_project_and_costs_the_hook_no_query():
    client.create_from_text("disk full")

    [call] = calls()
    assert call["project"] == GroupedMessage.objects.get().project.slug
    assert call["queries"] == 0


@recorder
def test_the_hook_runs_on_a_thread_of_its_own_not_the_recording_one():
    RecorderPlugin.gate = threading.Event()

    # The hook is held until the gate opens: recording must not wait for it.
    message_id = client.create_from_text("slow receiver")

    assert message_id is not None
    assert Message.objects.filter(message_id=message_id).exists()
    assert RecorderPlugin.calls == []
    RecorderPlugin.gate.set()
    [call] = calls()
    assert call["thread"] == "sentry-post-process-recorder"
    assert call["thread"] != threading.current_thread().name


@recorder
def test_past_the_waiting_room_new_events_are_dropped_and_logged(
    sentry_errors, monkeypatch
):
    monkeypatch.setattr(postprocess, "_workers", {})
    monkeypatch.setattr(postprocess, "QUEUE_SIZE", 2)
    RecorderPlugin.gate = threading.Event()
    client.create_from_text("first")
    assert RecorderPlugin.entered.wait(10)

    for n in range(4):
        assert client.create_from_text(f"waiting {n}") is not None
    RecorderPlugin.gate.set()

    assert [c["event"].message for c in calls()] == ["first", "waiting 0", "waiting 1"]
    dropped = [r for r in sentry_errors if "Too many events waiting" in r.getMessage()]
    assert len(dropped) == 2


@queued_only
@recorder
def test_events_digested_in_a_batch_reach_the_hook_in_order(client):
    key = make_key()
    events = [message_event(message=f"kind {n % 2}") for n in range(6)]
    post_events(client, key, events)

    drain(batch_size=100)

    recorded = calls()
    assert [c["event"].message_id for c in recorded] == [e["event_id"] for e in events]
    assert sum(c["is_new"] for c in recorded) == 2
    assert {c["project"] for c in recorded} == {key.project.slug}


@queued_only
@recorder
def test_a_hooked_batch_costs_one_query_more_than_an_idle_one(client):
    key = make_key()

    def batch():
        post_events(
            client, key, [message_event(message=f"e{n % 5}") for n in range(50)]
        )
        with CountQueries() as counted:
            drain(batch_size=100)
        return counted.count

    RecorderPlugin.enabled = False
    batch()  # creates the groups
    idle = batch()
    RecorderPlugin.enabled = True
    hooked = batch()

    # The stored events with their groups and projects: one query a batch.
    assert hooked == idle + 1
    assert len(calls()) == 50


@recorder
def test_a_plugin_that_is_not_set_up_costs_recording_no_query():
    client.create_from_text("counted")  # creates the group
    RecorderPlugin.enabled = False
    with CountQueries() as without_hook:
        client.create_from_text("counted")
    RecorderPlugin.enabled = True
    with CountQueries() as with_hook:
        client.create_from_text("counted")

    # The hooked capture reads the event and its group back: one query.
    assert with_hook.count == without_hook.count + 1
    assert [c["event"].message for c in calls()] == ["counted", "counted"]


@recorder
def test_a_failing_hook_is_tried_again_and_then_given_up_and_logged(sentry_errors):
    RecorderPlugin.failures = 2
    client.create_from_text("flaky receiver")
    recorded = calls()

    assert len(recorded) == 3
    assert not any("post_process" in r.getMessage() for r in sentry_errors)

    RecorderPlugin.reset()
    RecorderPlugin.failures = 10
    client.create_from_text("dead receiver")

    assert len(calls()) == RecorderPlugin.post_process_attempts
    [record] = [r for r in sentry_errors if "post_process" in r.getMessage()]
    assert "given up" in record.getMessage()
    assert record.exc_info[0] is ConnectionError


@recorder
def test_a_hook_that_fails_to_say_whether_it_wants_events_leaves_recording_unharmed(
    sentry_errors, monkeypatch
):
    def broken(self):
        raise RuntimeError("misconfigured")

    monkeypatch.setattr(RecorderPlugin, "wants_post_process", broken)

    assert client.create_from_text("still recorded") is not None
    assert calls() == []
    assert any("wants_post_process" in r.getMessage() for r in sentry_errors)


@override_settings(SENTRY_THRASHING_LIMIT=2, SENTRY_THRASHING_TIMEOUT=60)
@recorder
def test_an_event_the_flood_guard_did_not_keep_is_an_unsaved_occurrence():
    for _ in range(3):
        client.create_from_text("flood")

    recorded = calls()
    assert len(recorded) == 3
    assert [c["event"].pk is None for c in recorded] == [False, False, True]
    assert recorded[2]["event"].message == "flood"
    assert recorded[2]["group"].times_seen >= 2


@override_settings(SENTRY_ADMINS=["ops@example.com"])
@plugin_installed("sentry.plugins.sentry_mail")
def test_installing_the_mail_plugin_mails_once_not_twice():
    client.create_from_text("mailed once")

    assert postprocess.flush()
    assert [m.subject for m in mail.outbox] == [
        "[Sentry] New error (ERROR): mailed once"
    ]


@override_settings(SENTRY_ADMINS=["ops@example.com"])
@recorder
def test_mail_and_another_plugin_each_get_the_new_group():
    project = make_project(7, slug="billing")
    with override_settings(SENTRY_PROJECT="billing"):
        client.create_from_text("card declined")

    [call] = calls()
    assert call["project"] == project.slug
    assert len(mail.outbox) == 1


class CountQueries:
    def __enter__(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self._context = CaptureQueriesContext(connection)
        self._context.__enter__()
        return self

    def __exit__(self, *exc):
        self._context.__exit__(*exc)
        self.count = len(self._context.captured_queries)


@recorder
def test_a_forked_child_starts_afresh_without_the_parents_waiting_deliveries():
    # As gunicorn's workers fork from a master that has recorded something.
    RecorderPlugin.gate = threading.Event()
    client.create_from_text("before the fork")
    assert RecorderPlugin.entered.wait(10)

    pid = os.fork()
    if pid == 0:
        # The parent's thread is not in the child: its waiting delivery
        # would hold the child's exit (atexit) for nothing.
        started = time.monotonic()
        fresh = postprocess.flush(1) and not postprocess._workers
        os._exit(0 if fresh and time.monotonic() - started < 0.5 else 1)
    RecorderPlugin.gate.set()
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert [c["event"].message for c in calls()] == ["before the fork"]


@recorder
def test_a_plugin_with_a_retry_delay_that_is_no_number_loses_no_later_event(
    monkeypatch, sentry_errors
):
    monkeypatch.setattr(RecorderPlugin, "post_process_retry_delay", "soon")
    RecorderPlugin.failures = 1
    RecorderPlugin.gate = threading.Event()
    client.create_from_text("first")
    assert RecorderPlugin.entered.wait(10)
    client.create_from_text("second")
    RecorderPlugin.gate.set()

    assert [c["event"].message for c in calls()] == ["first", "second"]
    assert any("post_process" in r.getMessage() for r in sentry_errors)


@recorder
def test_a_timer_runs_later_in_the_plugins_own_thread_and_a_failing_one_is_logged(
    sentry_errors,
):
    plugin = RecorderPlugin()
    ran = []
    done = threading.Event()

    def failing():
        raise RuntimeError("timer broke")

    def record():
        ran.append(threading.current_thread().name)
        done.set()

    started = time.monotonic()
    # From this thread, while the plugin's thread waits for jobs: it wakes.
    postprocess.call_later(plugin, 0.3, failing)
    postprocess.call_later(plugin, 0.4, record)
    assert done.wait(10)

    assert time.monotonic() - started >= 0.4
    assert ran == ["sentry-post-process-recorder"]
    assert any("timer failed" in r.getMessage() for r in sentry_errors)
    # The thread lives on: events are still processed.
    client.create_from_text("after the timers")
    assert [c["event"].message for c in calls()] == ["after the timers"]


@recorder
def test_flush_waits_for_a_timer_that_is_running():
    # A process sending a flood summary from a timer waits for its timers
    # to leave the heap, then flushes before it exits: the summary being
    # sent must not be cut off (a CI run once lost it so).
    plugin = RecorderPlugin()
    started = threading.Event()
    finished = []

    def slow():
        started.set()
        time.sleep(0.5)
        finished.append(True)

    # Due later: the thread wakes for it by its timeout, not for a job.
    postprocess.call_later(plugin, 0.3, slow)
    assert started.wait(10)

    assert postprocess.flush(10)
    assert finished == [True]


@recorder
def test_flush_gives_up_on_a_timer_running_past_its_timeout():
    plugin = RecorderPlugin()
    started = threading.Event()
    release = threading.Event()
    postprocess.call_later(plugin, 0.3, lambda: (started.set(), release.wait(10)))
    assert started.wait(10)
    try:
        assert postprocess.flush(0.2) is False
    finally:
        release.set()
    assert postprocess.flush(10)
