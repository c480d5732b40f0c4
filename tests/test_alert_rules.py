"""The conditions of alert rules, counted and fired through real receivers."""

import datetime as dt
import json
import time

import pytest
from django.core import checks
from django.test import override_settings

from sentry import postprocess
from sentry.alerts import config, flood, rules
from sentry.alerts.plugin import ChannelPlugin
from sentry.alerts.state import AlertFiring
from sentry.client.models import client as sentry_client
from sentry.digest import drain
from sentry.models import GroupedMessage
from sentry.workflow.mute import mute
from tests.ingest_factories import make_key, message_event, post_events
from tests.processes import wait_for
from tests.receivers import Receiver
from tests.test_alerts import alerts as alerts_without_floods
from tests.test_alerts import delivered
from tests.test_concurrency import WORKERS, run_workers

# The rules read the counters from the plugins' threads: committed rows only.
pytestmark = pytest.mark.django_db(transaction=True)

T0 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)


def alerts(channels, rules, **extra):
    """Settings that declare ``channels`` and ``rules``: the default flood limit."""
    extra.setdefault("SENTRY_ALERT_FLOOD_LIMIT", 10)
    return alerts_without_floods(channels, rules, **extra)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(ChannelPlugin, "delivery_retry_delay", 0.01)
    # With the clock at hh:mm:59, summaries go 2.5 s after the first
    # collected error: time for the test's next events, even under load.
    monkeypatch.setattr(flood, "GRACE", 1.5)
    rules.forget_all()
    flood.forget_all()
    yield
    assert postprocess.flush(20)
    # No summary of this test's left to go out during the next one.
    for worker in list(postprocess._workers.values()):
        with worker.timers_lock:
            worker.timers.clear()
    rules.forget_all()
    flood.forget_all()


class Clock:
    """The time rules are decided at, moved by the test."""

    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at

    def set(self, minutes=0, seconds=0):
        self.at = T0 + dt.timedelta(minutes=minutes, seconds=seconds)
        return self.at


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(T0)
    monkeypatch.setattr(rules, "now", clock)
    return clock


def at(clock, minutes, seconds=0, message="counted", **fields):
    """Record an event stamped, and decided, at T0 + the time given."""
    when = clock.set(minutes, seconds)
    assert sentry_client.create_from_text(message, datetime=when, **fields)
    # One at a time: each event decided at its own moment.
    delivered()


def actions(receiver):
    return [json.loads(r["body"])["action"] for r in receiver.requests]


def webhook(receiver):
    return {"ops": {"plugin": "webhook", "url": receiver.url()}}


# --- unmute -----------------------------------------------------------------------


def test_an_unmute_rule_fires_on_the_event_that_ends_the_mute_only():
    rules = [{"when": "unmute", "channels": ["ops"]}]
    with Receiver() as receiver, alerts(webhook(receiver), rules):
        sentry_client.create_from_text("noisy")
        mute(GroupedMessage.objects.all(), {"count": 2}, None)
        sentry_client.create_from_text("noisy")  # muted: nothing
        sentry_client.create_from_text("noisy")  # the second: unmuted
        sentry_client.create_from_text("noisy")  # unmuted, nothing new
        delivered()

    assert actions(receiver) == ["unmute"]
    body = json.loads(receiver.requests[0]["body"])
    assert body["group"]["times_seen"] == 3


def test_new_and_regression_rules_do_not_fire_on_an_unmute():
    with Receiver() as receiver:
        rules = [
            {"when": "new", "channels": ["ops"]},
            {"when": "regression", "channels": ["ops"]},
        ]
        with alerts(webhook(receiver), rules):
            sentry_client.create_from_text("noisy")
            mute(GroupedMessage.objects.all(), {"count": 1}, None)
            sentry_client.create_from_text("noisy")
            delivered()

    assert actions(receiver) == ["new"]


# --- {"events": N, "minutes": M} ----------------------------------------------------


def test_a_frequency_rule_fires_once_when_its_count_is_reached(clock):
    rule = {"when": {"events": 3, "minutes": 5}, "channels": ["ops"]}
    with Receiver() as receiver, alerts(webhook(receiver), [rule]):
        for second in range(0, 50, 10):
            at(clock, 0, second)

    assert actions(receiver) == ["frequency"]
    body = json.loads(receiver.requests[0]["body"])
    assert body["group"]["times_seen"] == 3


def test_the_window_is_the_current_minute_and_the_ones_before_it(clock):
    rule = {"when": {"events": 3, "minutes": 5}, "channels": ["ops"]}
    with Receiver() as receiver, alerts(webhook(receiver), [rule]):
        at(clock, -1, 50)  # minute 09:59
        at(clock, 1, 10)
        at(clock, 4, 59)  # three in 5 min 9 s, but 09:59 is out of 10:00-10:04
        assert receiver.requests == []
        at(clock, 5, 0)  # 10:01-10:05 holds three
        assert len(receiver.requests) == 1


def test_a_frequency_rule_fires_again_only_in_the_next_window(clock):
    rule = {"when": {"events": 2, "minutes": 5}, "channels": ["ops"]}
    with Receiver() as receiver, alerts(webhook(receiver), [rule]):
        at(clock, 0, 10)
        at(clock, 0, 20)  # fires in minute 10:00
        at(clock, 0, 30)
        at(clock, 0, 40)  # counted in the window that fired: not again
        at(clock, 4, 0)
        at(clock, 4, 59)  # two more from 10:01 on, but within 5 minutes
        assert len(receiver.requests) == 1
        at(clock, 5, 0)  # minute 10:05: 10:01-10:05 holds the two
        assert len(receiver.requests) == 2
        at(clock, 5, 30)
        at(clock, 5, 45)
        assert len(receiver.requests) == 2
        # 10:06-10:10 holds one: the ones of minute 10:05 went to the last.
        at(clock, 10, 0)
        assert len(receiver.requests) == 2
        at(clock, 10, 1)
        assert len(receiver.requests) == 3


def test_a_frequency_rule_counts_the_group_not_the_rules_other_groups(clock):
    rule = {"when": {"events": 2, "minutes": 1}, "channels": ["ops"]}
    with Receiver() as receiver, alerts(webhook(receiver), [rule]):
        at(clock, 0, 1, message="one")
        at(clock, 0, 2, message="two")
        assert receiver.requests == []
        at(clock, 0, 3, message="two")

    [body] = [json.loads(r["body"]) for r in receiver.requests]
    assert body["group"]["title"] == "two"


def test_a_frequency_rule_does_not_fire_for_a_muted_group(clock):
    rule = {"when": {"events": 2, "minutes": 5}, "channels": ["ops"]}
    with Receiver() as receiver, alerts(webhook(receiver), [rule]):
        at(clock, 0, 1)
        mute(GroupedMessage.objects.all(), {}, None)
        for second in range(2, 12):
            at(clock, 0, second)

    assert receiver.requests == []
    assert not AlertFiring.objects.exists()


def test_a_frequency_rule_filters_the_events_that_may_fire_it(clock):
    rule = {
        "when": {"events": 2, "minutes": 5},
        "channels": ["ops"],
        "environment": "production",
    }
    with Receiver() as receiver, alerts(webhook(receiver), [rule]):
        at(clock, 0, 1, tags={"environment": "staging"})
        at(clock, 0, 2, tags={"environment": "staging"})
        assert receiver.requests == []
        at(clock, 0, 3, tags={"environment": "production"})

    [body] = [json.loads(r["body"]) for r in receiver.requests]
    assert body["event"]["environment"] == "production"


def test_sdk_events_count_in_the_minute_they_are_stamped_with(client, monkeypatch):
    # Through the SDK endpoint and the digest, stamped by the SDK: an hour-old
    # event (sent late) does not count in the window running now.
    key = make_key()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    monkeypatch.setattr(rules, "now", lambda: now)

    def stamped(minutes_ago, count):
        when = (now - dt.timedelta(minutes=minutes_ago)).isoformat()
        return [message_event(message="late", timestamp=when) for _ in range(count)]

    rule = {"when": {"events": 4, "minutes": 5}, "channels": ["ops"]}
    with Receiver() as receiver:
        settings = alerts(webhook(receiver), [rule], SENTRY_DIGEST="worker")
        with settings:
            post_events(client, key, stamped(60, 3) + stamped(0, 2))
            drain(batch_size=100)
            delivered()
            assert receiver.requests == []
            post_events(client, key, stamped(0, 2))
            drain(batch_size=100)
            delivered()

    [body] = [json.loads(r["body"]) for r in receiver.requests]
    assert body["action"] == "frequency"
    assert body["group"]["times_seen"] == 7


def test_a_mail_channel_is_told_which_condition_fired(clock):
    from django.core import mail

    rule = {"when": {"events": 2, "minutes": 5}, "channels": ["pager"]}
    channels = {"pager": {"plugin": "mail", "to": ["oncall@example.com"]}}
    with alerts(channels, [rule]):
        at(clock, 0, 1)
        at(clock, 0, 2)

    [message] = mail.outbox
    assert message.subject == "[Sentry] 2 events within 5 minutes (ERROR): counted"


# --- {"reaches": N} ------------------------------------------------------------------


def test_a_reaches_rule_fires_once_on_the_event_that_reaches_the_count(clock):
    rule = {"when": {"reaches": 3}, "channels": ["ops"]}
    with Receiver() as receiver, alerts(webhook(receiver), [rule]):
        for minute in range(6):
            at(clock, minute * 30)

    assert actions(receiver) == ["reaches"]
    assert json.loads(receiver.requests[0]["body"])["group"]["times_seen"] == 3


def test_a_batch_that_passes_the_count_fires_once_saying_its_total(client):
    key = make_key()
    rule = {"when": {"reaches": 5}, "channels": ["ops"]}
    with Receiver() as receiver:
        settings = alerts(webhook(receiver), [rule], SENTRY_DIGEST="worker")
        with settings:
            post_events(client, key, [message_event(message="x") for _ in range(10)])
            drain(batch_size=100)
            delivered()

    [body] = [json.loads(r["body"]) for r in receiver.requests]
    assert body["action"] == "reaches"
    assert body["group"]["times_seen"] == 10


def test_reordered_or_added_rules_do_not_fire_again(clock):
    rule = {"when": {"reaches": 2}, "channels": ["ops"]}
    with Receiver() as receiver:
        with alerts(webhook(receiver), [rule]):
            at(clock, 0, 1)
            at(clock, 0, 2)
        # The same rule, now second, and its channels listed the other way.
        rules.forget_all()  # as a restarted server
        channels = {**webhook(receiver), "b": webhook(receiver)["ops"]}
        moved = {**rule, "channels": ["ops", "b"]}
        first = {"when": "regression", "channels": ["ops"]}
        with alerts(channels, [first, {**rule}, moved]):
            at(clock, 0, 3)
            at(clock, 0, 4)

    # The second list's copy of the rule is the same rule; the one with
    # another channel is another rule, and fires once (to both channels).
    assert actions(receiver) == ["reaches", "reaches", "reaches"]
    assert AlertFiring.objects.count() == 2


def test_a_batch_is_decided_once_per_group_not_once_per_event(client, monkeypatch):
    looks = []
    real = rules.counted
    monkeypatch.setattr(
        rules, "counted", lambda *args: looks.append(args[0].pk) or real(*args)
    )
    key = make_key()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = [message_event(message=f"e{n % 5}", timestamp=now) for n in range(50)]
    rule = {"when": {"events": 4, "minutes": 5}, "channels": ["ops"]}
    with Receiver() as receiver:
        settings = alerts(webhook(receiver), [rule], SENTRY_DIGEST="worker")
        with settings:
            post_events(client, key, events)
            drain(batch_size=100)
            delivered()

    assert sorted(looks) == sorted(GroupedMessage.objects.values_list("pk", flat=True))
    assert len(receiver.requests) == 5


def test_without_a_counting_rule_the_plugins_get_only_the_changes():
    from sentry.plugins.sentry_webhooks.plugin import WebhooksPlugin

    plugin = WebhooksPlugin()
    channels = {"ops": {"plugin": "webhook", "url": "http://x.example/"}}
    with alerts(channels, [{"when": "new", "channels": ["ops"]}]):
        assert plugin.wants_post_process()
        assert plugin.post_process_only_changes
    counting = [{"when": {"reaches": 5}, "channels": ["ops"]}]
    with alerts(channels, counting):
        assert plugin.wants_post_process()
        assert not plugin.post_process_only_changes


# --- the rate limit ----------------------------------------------------------------


def regress(clock, minutes, message="flapping"):
    GroupedMessage.objects.filter(message=message).update(
        status=GroupedMessage.STATUS_RESOLVED
    )
    at(clock, minutes, message=message)


def test_a_rate_limited_rule_sends_at_most_one_message_per_group_and_period(clock):
    rule = {"when": "regression", "channels": ["ops"], "every": 60}
    with Receiver() as receiver, alerts(webhook(receiver), [rule]):
        at(clock, 0, message="flapping")
        at(clock, 0, message="other")
        regress(clock, 1)  # fires
        regress(clock, 30)
        regress(clock, 60, "other")  # another group: its own limit
        regress(clock, 60)  # 59 minutes after the first: not yet
        assert len(receiver.requests) == 2
        regress(clock, 61)  # an hour (exactly) after
        regress(clock, 62)

    titles = [json.loads(r["body"])["group"]["title"] for r in receiver.requests]
    assert titles == ["flapping", "other", "flapping"]


def test_a_rate_limit_longer_than_the_window_spaces_a_frequency_rules_messages(
    clock,
):
    rule = {"when": {"events": 1, "minutes": 1}, "channels": ["ops"], "every": 10}
    with Receiver() as receiver, alerts(webhook(receiver), [rule]):
        for minute in range(25):
            at(clock, minute)

    fired = [json.loads(r["body"])["group"]["times_seen"] for r in receiver.requests]
    assert fired == [1, 11, 21]


# --- the flood summary --------------------------------------------------------------


def summaries(receiver):
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    return [b["summary"]["new_errors"] for b in bodies if b["action"] == "summary"]


def test_a_flood_of_new_errors_sends_the_limit_then_one_summary(clock):
    rule = {"when": "new", "channels": ["ops"], "flood_limit": 3}
    with Receiver() as receiver, alerts(webhook(receiver), [rule]):
        for n in range(8):
            at(clock, 0, 59, message=f"new error {n}")
        assert actions(receiver) == ["new"] * 3
        # Sent when the minute is over (and its grace): the clock stands at
        # 10:00:59, a second before.
        assert wait_for(lambda: len(receiver.requests) == 4, timeout=10)
        for n in range(2):
            at(clock, 1, 10, message=f"next minute {n}")
        delivered()

    assert actions(receiver) == ["new"] * 3 + ["summary", "new", "new"]
    summary = json.loads(receiver.requests[3]["body"])
    assert summary["summary"]["new_errors"] == 5
    assert summary["summary"]["from"] == "2026-12-07T10:00:00+00:00"
    assert summary["summary"]["url"] == (
        "https://errors.example.com/sentry/?project=default&sort=new"
    )


def test_the_default_flood_limit_is_the_settings(clock):
    rule = {"when": "new", "channels": ["ops"]}
    with (
        Receiver() as receiver,
        alerts(webhook(receiver), [rule], SENTRY_ALERT_FLOOD_LIMIT=2),
    ):
        for n in range(4):
            at(clock, 0, 59, message=f"new error {n}")
        assert wait_for(lambda: len(receiver.requests) == 3, timeout=10)

    assert summaries(receiver) == [2]


def test_a_flood_in_one_project_holds_back_no_other_projects_errors(clock):
    from sentry.models import Project

    Project.objects.create(name="Shop", slug="shop")
    rule = {"when": "new", "channels": ["ops"], "flood_limit": 1}
    with Receiver() as receiver, alerts(webhook(receiver), [rule]):
        at(clock, 0, 59, message="default 1")
        at(clock, 0, 59, message="default 2")  # held back
        with override_settings(SENTRY_PROJECT="shop"):
            at(clock, 0, 59, message="shop 1")
        assert wait_for(lambda: len(receiver.requests) == 3, timeout=10)

    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert [b["project"]["slug"] for b in bodies] == ["default", "shop", "default"]
    assert bodies[2]["summary"]["new_errors"] == 1


def test_a_flood_limit_of_zero_sends_every_message(clock):
    rule = {"when": "new", "channels": ["ops"], "flood_limit": 0}
    with (
        Receiver() as receiver,
        alerts(webhook(receiver), [rule], SENTRY_ALERT_FLOOD_LIMIT=1),
    ):
        for n in range(4):
            at(clock, 0, 59, message=f"new error {n}")

    assert actions(receiver) == ["new"] * 4


def test_a_summary_nobody_sent_goes_with_the_next_one(clock):
    from sentry.alerts.state import AlertFlood

    rule = {"when": "new", "channels": ["ops"], "flood_limit": 1}
    with Receiver() as receiver, alerts(webhook(receiver), [rule]):
        for n in range(3):
            at(clock, 0, 10, message=f"lost {n}")
        delivered()
        # As if the process had exited before its timer: not sent.
        flood.forget_all()
        for worker in postprocess._workers.values():
            worker.timers.clear()
        assert AlertFlood.objects.filter(collected=True).count() == 2
        for n in range(3):
            at(clock, 7, 59, message=f"later {n}")
        assert wait_for(lambda: len(summaries(receiver)) == 2, timeout=10)

    assert sorted(summaries(receiver)) == [2, 2]


def test_a_mail_channel_gets_the_summary_by_mail(clock):
    from django.core import mail

    rule = {"when": "new", "channels": ["pager"], "flood_limit": 1}
    channels = {"pager": {"plugin": "mail", "to": ["oncall@example.com"]}}
    with alerts(channels, [rule]):
        for n in range(4):
            at(clock, 0, 59, message=f"new error {n}")
        assert wait_for(lambda: len(mail.outbox) == 2, timeout=10)

    assert mail.outbox[1].subject == "[Sentry] 3 more new errors in default"
    assert "?project=default&sort=new" in mail.outbox[1].body
    assert mail.outbox[1].to == ["oncall@example.com"]


def test_a_summary_names_the_project_escaped_for_the_target(clock):
    from sentry.models import Project

    Project.objects.create(name="<!channel> *Shop*", slug="shop")
    rule = {"when": "new", "channels": ["chat"], "flood_limit": 1}
    with Receiver() as receiver:
        channels = {"chat": {"plugin": "slack", "url": receiver.url()}}
        with alerts(channels, [rule], SENTRY_PROJECT="shop"):
            for n in range(3):
                at(clock, 0, 59, message=f"new error {n}")
            assert wait_for(lambda: len(receiver.requests) == 2, timeout=10)

    text = json.loads(receiver.requests[1]["body"])["text"]
    assert "<!channel>" not in text
    assert text.startswith("*2 more new errors* in &lt;!channel&gt; *Shop*: <")
    assert "/sentry/?project=shop&sort=new|a flood of new errors" in text


# --- several processes at once ----------------------------------------------------


@pytest.mark.slow
def test_processes_deciding_at_once_fire_each_rule_exactly_once():
    per_worker = 30
    with (
        Receiver() as often,
        Receiver() as reached,
        Receiver() as chat,
        Receiver() as limited,
    ):
        options = {
            "SENTRY_ALERT_CHANNELS": {
                "often": {"plugin": "webhook", "url": often.url()},
                "reached": {"plugin": "webhook", "url": reached.url()},
                "chat": {"plugin": "slack", "url": chat.url()},
                "limited": {"plugin": "webhook", "url": limited.url()},
            },
            "SENTRY_ALERT_RULES": [
                # A window of an hour: the test may cross a minute, not an hour.
                {"when": {"events": 20, "minutes": 60}, "channels": ["often"]},
                {"when": {"reaches": 50}, "channels": ["reached", "chat"]},
                # Would fire each minute but for its rate limit.
                {
                    "when": {"events": 5, "minutes": 1},
                    "every": 60,
                    "channels": ["limited"],
                },
            ],
            "SENTRY_ALERTS_ALLOWED_NETWORKS": ["127.0.0.0/8"],
        }
        results = run_workers(
            "alerted", str(per_worker), json.dumps(options), str(time.time() + 2.0)
        )

    assert sum(r["recorded"] for r in results) == WORKERS * per_worker
    assert all(r["flushed"] for r in results)
    assert GroupedMessage.objects.get().times_seen == WORKERS * per_worker
    assert actions(often) == ["frequency"]
    assert actions(reached) == ["reaches"]
    # Each kind of channel decides on its own, once.
    assert len(chat.requests) == 1
    assert actions(limited) == ["frequency"]
    assert AlertFiring.objects.count() == 4


@pytest.mark.slow
def test_processes_flooded_at_once_send_the_limit_and_one_summary_in_all():
    per_worker = 15
    with Receiver() as receiver:
        options = {
            "SENTRY_ALERT_CHANNELS": webhook(receiver),
            "SENTRY_ALERT_RULES": [{"when": "new", "channels": ["ops"]}],
            "SENTRY_ALERTS_ALLOWED_NETWORKS": ["127.0.0.0/8"],
        }
        results = run_workers(
            "flood",
            str(per_worker),
            json.dumps(options),
            str(time.time() + 2.0),
            (T0 + dt.timedelta(seconds=59)).isoformat(),
        )

    assert sum(r["recorded"] for r in results) == WORKERS * per_worker
    assert all(r["flushed"] for r in results)
    assert actions(receiver).count("new") == 10
    assert summaries(receiver) == [WORKERS * per_worker - 10]


# --- configuration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ({"events": 5}, "'when' must be one of"),
        ({"events": 5, "minutes": 1, "x": 1}, "'when' must be one of"),
        ({"events": "5", "minutes": 1}, "'events' must be a whole number"),
        ({"events": 5, "minutes": True}, "'minutes' must be a whole number"),
        ({"events": 0, "minutes": 1}, "'events' must be between 1 and"),
        ({"events": 5, "minutes": 24 * 60 + 1}, "'minutes' must be between 1 and"),
        ({"reaches": -1}, "'reaches' must be between 1 and"),
        ({"reaches": 2**31}, "'reaches' must be between 1 and"),
        ({"reaches": 1.5}, "'reaches' must be a whole number"),
        ([["reaches", 5]], "'when' must be one of"),
        ("regression", "every=0: 'every' must be between 1 and"),
        ("regression", "every='1h': 'every' must be a whole number"),
        ("regression", "every=43201: 'every' must be between 1 and 43200"),
        ("new", "every=5: a 'new' rule sends at most one per group"),
        ({"reaches": 5}, "every=5: a 'reaches' rule sends at most one"),
        ("regression", "flood_limit=5: 'flood_limit' is for 'new' rules only"),
        ("new", "flood_limit=-1: 'flood_limit' must be between 1 and 10000"),
        ("new", "flood_limit=true: 'flood_limit' must be a whole number"),
    ],
)
def test_a_condition_that_cannot_be_read_is_a_system_check_error(when, message):
    channels = {"ops": {"plugin": "webhook", "url": "http://x.example/"}}
    rule = {"when": when, "channels": ["ops"]}
    if message.startswith(("every=", "flood_limit=")):
        setting, message = message.split(": ", 1)
        name, value = setting.split("=")
        rule[name] = json.loads(value.replace("'", '"'))
    with alerts(channels, [rule]):
        errors = [e for e in checks.run_checks(databases=[]) if e.id == "sentry.E020"]

    assert len(errors) == 1
    assert message in errors[0].msg


@pytest.mark.parametrize("limit", [-1, "10", None, True, 10_001])
def test_a_flood_limit_setting_that_cannot_be_read_is_a_system_check_error(limit):
    with alerts({}, [], SENTRY_ALERT_FLOOD_LIMIT=limit):
        errors = [e for e in checks.run_checks(databases=[]) if e.id == "sentry.E020"]

    assert len(errors) == 1
    assert "SENTRY_ALERT_FLOOD_LIMIT must be a whole number" in errors[0].msg


@pytest.mark.parametrize(("every", "warned"), [(5, True), (3, True), (6, False)])
def test_a_rate_limit_within_a_frequency_window_is_a_warning(every, warned):
    channels = {"ops": {"plugin": "webhook", "url": "http://x.example/"}}
    rule = {"when": {"events": 9, "minutes": 5}, "every": every, "channels": ["ops"]}
    with alerts(channels, [rule]):
        found = [w for w in checks.run_checks(databases=[]) if w.id == "sentry.W007"]

    assert len(found) == warned
    if warned:
        assert f"rule 0: 'every' ({every} minutes) limits nothing" in found[0].msg


def test_the_flood_limit_setting_is_a_known_setting():
    with override_settings(SENTRY_ALERT_FLOOD_LIMIT=3):
        warnings = checks.run_checks(databases=[])

    assert not [w for w in warnings if "SENTRY_ALERT_FLOOD_LIMIT" in w.msg]


def test_a_rules_key_is_what_it_says_not_where_it_is_listed():
    channels = {"a": object(), "b": object()}
    spec = {"when": {"reaches": 5}, "channels": ["a", "b"], "tags": {"x": "1"}}
    first = config._rule(0, spec, channels)
    moved = config._rule(7, {**spec, "channels": ["b", "a"]}, channels)
    other = config._rule(0, {**spec, "when": {"reaches": 6}}, channels)

    assert first.key == moved.key
    assert first.key.startswith("settings:")
    assert other.key != first.key
    stored = config.Rule(0, "reaches", ("a",), count=5, key="db:12")
    assert stored.key == "db:12"


def test_the_dashboard_says_what_a_counted_rule_waits_for(admin_client):
    channels = {"ops": {"plugin": "webhook", "url": "http://x.example/"}}
    rules_ = [
        {"when": {"events": 50, "minutes": 5}, "channels": ["ops"]},
        {"when": {"reaches": 100}, "channels": ["ops"]},
        {"when": "regression", "channels": ["ops"], "every": 60},
    ]
    with override_settings(SENTRY_ALERT_CHANNELS=channels, SENTRY_ALERT_RULES=rules_):
        page = admin_client.get("/sentry/alerts/").content.decode()

    assert "50 events of an error within 5 minutes" in page
    assert "total reaching 100 events" in page
    assert "A regression, at most once every 60 minutes per error" in page
