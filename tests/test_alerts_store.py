"""The channels and rules saved on the dashboard, delivering; the delivery log."""

import json

import pytest
from django.test import override_settings

from sentry import postprocess
from sentry.alerts import config, store
from sentry.alerts.models import AlertChannel, AlertDelivery, AlertRule
from sentry.alerts.plugin import ChannelPlugin
from sentry.client.models import client as sentry_client
from sentry.models import GroupedMessage, Project
from sentry.plugins.testing import plugin_installed
from tests.receivers import Receiver

# The delivery log is written from the plugins' thread: the test's rows must
# be committed for it to write (as they are outside tests).
pytestmark = pytest.mark.django_db(transaction=True)

LOOPBACK = ["127.0.0.0/8"]


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(ChannelPlugin, "delivery_retry_delay", 0.01)
    store.forget()
    store._pending.clear()
    with (
        plugin_installed("sentry.plugins.sentry_webhooks"),
        override_settings(
            SENTRY_ALERTS_ALLOWED_NETWORKS=LOOPBACK,
            SENTRY_URL_PREFIX="https://errors.example.com",
        ),
    ):
        yield
        assert postprocess.flush(20)
    store.forget()


def delivered():
    assert postprocess.flush(20), "the deliveries did not finish"


def webhook(receiver, name="ops", **fields):
    return AlertChannel.objects.create(
        name=name, kind="webhook", url=receiver.url(), **fields
    )


def test_a_saved_channel_and_rule_deliver_and_the_delivery_is_logged():
    with Receiver() as receiver:
        webhook(receiver, secret="s3cret")
        rule = AlertRule.objects.create(when="new", channels=["ops"])
        sentry_client.create_from_text("disk full", level=40)
        sentry_client.create_from_text("disk full", level=40)
        delivered()

    group = GroupedMessage.objects.get()
    [request] = receiver.requests
    assert json.loads(request["body"])["group"]["id"] == group.pk
    assert "X-Sentry-Signature" in request["headers"]
    [entry] = AlertDelivery.objects.all()
    assert (entry.channel, entry.rule, entry.group, entry.ok) == (
        "ops",
        f"db:{rule.pk}",
        group,
        True,
    )
    assert (entry.status, entry.error, entry.attempts) == (200, "", 1)


def test_a_failed_delivery_is_logged_with_its_status_and_tries_without_the_url():
    with Receiver(status=500) as receiver:
        webhook(receiver)
        AlertRule.objects.create(when="new", channels=["ops"])
        sentry_client.create_from_text("disk full", level=40)
        delivered()

    [entry] = AlertDelivery.objects.all()
    assert (entry.ok, entry.status, entry.attempts) == (False, 500, 3)
    assert entry.error == "answered 500"
    assert "T0KEN" not in entry.error


def test_a_refused_address_is_logged_as_an_error_without_a_status():
    with Receiver() as receiver, override_settings(SENTRY_ALERTS_ALLOWED_NETWORKS=[]):
        webhook(receiver)
        AlertRule.objects.create(when="new", channels=["ops"])
        sentry_client.create_from_text("disk full", level=40)
        delivered()

    assert receiver.requests == []
    [entry] = AlertDelivery.objects.all()
    assert (entry.ok, entry.status, entry.attempts) == (False, None, 1)
    assert "loopback" in entry.error
    assert "T0KEN" not in entry.error


def test_settings_and_saved_rules_deliver_side_by_side():
    with Receiver() as declared, Receiver() as saved:
        channels = {"declared": {"plugin": "webhook", "url": declared.url()}}
        rules = [{"when": "new", "channels": ["declared"]}]
        with override_settings(
            SENTRY_ALERT_CHANNELS=channels, SENTRY_ALERT_RULES=rules
        ):
            webhook(saved, name="saved")
            AlertRule.objects.create(when="new", channels=["saved"])
            sentry_client.create_from_text("disk full", level=40)
            delivered()
            # A declared rule is named by a hash of what it says.
            declared_key = config.rules()[0].key

    assert declared_key.startswith("settings:")
    assert len(declared.requests) == len(saved.requests) == 1
    assert sorted(AlertDelivery.objects.values_list("channel", "rule")) == [
        ("declared", declared_key),
        ("saved", f"db:{AlertRule.objects.get().pk}"),
    ]


def test_a_saved_rule_may_name_a_channel_of_the_settings():
    with Receiver() as receiver:
        channels = {"declared": {"plugin": "webhook", "url": receiver.url()}}
        with override_settings(SENTRY_ALERT_CHANNELS=channels):
            AlertRule.objects.create(when="new", channels=["declared"])
            sentry_client.create_from_text("disk full", level=40)
            delivered()

    assert len(receiver.requests) == 1


def test_disabled_channels_and_rules_send_nothing():
    with Receiver() as receiver:
        channel = webhook(receiver, enabled=False)
        AlertRule.objects.create(when="new", channels=["ops"])
        sentry_client.create_from_text("first", level=40)
        delivered()
        channel.enabled = True
        channel.save()
        AlertRule.objects.update(enabled=False)
        store.forget()
        sentry_client.create_from_text("second", level=40)
        delivered()

    assert receiver.requests == []
    assert not AlertDelivery.objects.exists()


def test_a_rule_still_sends_to_its_enabled_channels_when_one_is_disabled():
    with Receiver() as on, Receiver() as off:
        webhook(on, name="on")
        webhook(off, name="off", enabled=False)
        AlertRule.objects.create(when="new", channels=["off", "on"])
        sentry_client.create_from_text("disk full", level=40)
        delivered()

    assert (len(on.requests), len(off.requests)) == (1, 0)


def test_a_project_rule_fires_for_its_project_only():
    other = Project.objects.create(name="Shop", slug="shop")
    with Receiver() as receiver:
        webhook(receiver)
        AlertRule.objects.create(when="new", channels=["ops"], project=other)
        sentry_client.create_from_text("not the shop's", level=40)
        delivered()

    assert receiver.requests == []
    rule = store.read_rule(AlertRule.objects.get(), config.usable()[0])
    assert rule.project == "shop"


def test_a_project_channel_serves_no_rule_of_another_project(sentry_errors):
    shop = Project.objects.create(name="Shop", slug="shop")
    with Receiver() as receiver:
        webhook(receiver, project=shop)
        AlertRule.objects.create(when="new", channels=["ops"])
        sentry_client.create_from_text("disk full", level=40)
        delivered()

    assert receiver.requests == []
    assert any("another project" in r.getMessage() for r in sentry_errors)


def test_a_saved_channel_named_like_a_declared_one_is_left_out_and_logged(
    sentry_errors,
):
    with Receiver() as declared, Receiver() as saved:
        channels = {"ops": {"plugin": "webhook", "url": declared.url()}}
        with override_settings(SENTRY_ALERT_CHANNELS=channels):
            webhook(saved)
            AlertRule.objects.create(when="new", channels=["ops"])
            sentry_client.create_from_text("disk full", level=40)
            delivered()

    assert (len(declared.requests), len(saved.requests)) == (1, 0)
    assert any("settings declare" in r.getMessage() for r in sentry_errors)


def test_a_saved_rule_that_cannot_be_read_leaves_the_others_delivering(
    sentry_errors,
):
    with Receiver() as receiver:
        webhook(receiver)
        AlertRule.objects.create(when="whenever", channels=["ops"])
        AlertRule.objects.create(when="new", channels=["ops"])
        sentry_client.create_from_text("disk full", level=40)
        sentry_client.create_from_text("again", level=40)
        delivered()

    assert len(receiver.requests) == 2
    unread = [r for r in sentry_errors if "not used" in r.getMessage()]
    assert len(unread) == 1


def test_a_change_saved_here_is_used_at_once_and_one_made_elsewhere_within_seconds(
    monkeypatch,
):
    with Receiver() as receiver:
        webhook(receiver)
        assert config.usable()[1] == []
        rule = AlertRule.objects.create(when="new", channels=["ops"])
        # Saved by this process: seen at once.
        assert [r.key for r in config.usable()[1]] == [rule.key]
        # Changed by another process (no signal here): seen once the
        # cache expires, not before.
        AlertRule.objects.filter(pk=rule.pk).update(enabled=False)
        assert [r.key for r in config.usable()[1]] == [rule.key]
        later = store.time.monotonic() + store.CACHE_SECONDS + 0.1
        monkeypatch.setattr(store.time, "monotonic", lambda: later)
        assert config.usable()[1] == []


def test_reading_the_rules_for_each_event_costs_no_query(django_assert_num_queries):
    AlertChannel.objects.create(name="ops", kind="mail", to="a@example.com")
    AlertRule.objects.create(when="new", channels=["ops"])
    config.usable()
    with django_assert_num_queries(0):
        for _ in range(10):
            config.usable()


def test_the_log_keeps_the_newest_deliveries_of_each_channel(monkeypatch):
    monkeypatch.setattr(store, "KEEP_DELIVERIES", 3)
    ops = config.Channel("ops", "webhook", url="https://x.example/T0KEN")
    chat = config.Channel("chat", "slack", url="https://x.example/T0KEN")
    for n in range(6):
        store.record(ops, None, True, status=200 + n)
    store.record(chat, None, False, error="answered 500", status=500)

    assert list(
        AlertDelivery.objects.filter(channel="ops").values_list("status", flat=True)
    ) == [205, 204, 203]
    assert AlertDelivery.objects.filter(channel="chat").count() == 1


def test_hostile_log_fields_are_bounded():
    channel = config.Channel("x" * 500, "webhook", url="https://x.example/")
    store.record(
        channel,
        None,
        False,
        rule="r" * 1000,
        status=10**9,
        error="e" * 10**6,
        attempts=10**9,
    )

    entry = AlertDelivery.objects.get()
    assert len(entry.channel) == 64
    assert len(entry.rule) == 200
    assert len(entry.error) == 300
    assert entry.status is None
    assert entry.attempts == 32767


def test_a_log_entry_of_a_deleted_group_keeps_the_entry(monkeypatch):
    sentry_client.create_from_text("disk full", level=40)
    group = GroupedMessage.objects.get()
    channel = config.Channel("ops", "webhook", url="https://x.example/")
    store.record(channel, group, True, status=204)
    group.delete()

    entry = AlertDelivery.objects.get()
    assert entry.group is None and entry.status == 204


def test_cleanup_deletes_the_deliveries_older_than_its_days():
    import datetime as dt
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    old = timezone.now() - dt.timedelta(days=31)
    AlertDelivery.objects.create(channel="ops", ok=True, date=old)
    AlertDelivery.objects.create(channel="ops", ok=True)
    call_command("cleanup_sentry", "--days", "30", "--logger", "x", stdout=StringIO())
    assert AlertDelivery.objects.count() == 2  # a limited run leaves the log

    call_command("cleanup_sentry", "--days", "30", stdout=StringIO())
    assert AlertDelivery.objects.get().date > old


def test_a_rule_row_naming_one_channel_as_a_string_is_read_as_a_list():
    AlertChannel.objects.create(name="o", kind="mail", to="a@example.com")
    AlertChannel.objects.create(name="ops", kind="mail", to="b@example.com")
    AlertRule.objects.create(channels="ops")

    # Not the letters of "ops": the channel "o" gets nothing.
    assert [rule.channels for rule in config.usable()[1]] == [("ops",)]


def test_a_saved_channel_the_settings_shadow_is_a_database_check_warning():
    from django.core import checks

    AlertChannel.objects.create(name="ops", kind="mail", to="a@example.com")
    AlertChannel.objects.create(name="chat", kind="mail", to="b@example.com")
    declared = {"ops": {"plugin": "mail", "to": ["c@example.com"]}}

    def warnings(**options):
        found = checks.run_checks(tags=[checks.Tags.database], **options)
        return [w for w in found if w.id == "sentry.W008"]

    with override_settings(SENTRY_ALERT_CHANNELS=declared):
        [warning] = warnings(databases=["default"])
        assert "'ops'" in warning.msg
        # Not without the database (a plain ``manage.py check``).
        assert warnings(databases=[]) == []
    assert warnings(databases=["default"]) == []
