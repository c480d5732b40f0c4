"""The conditions of alert rules, counted and fired through real receivers."""

import json

import pytest

from sentry import postprocess
from sentry.alerts.plugin import ChannelPlugin
from sentry.client.models import client as sentry_client
from sentry.models import GroupedMessage
from sentry.workflow.mute import mute
from tests.receivers import Receiver
from tests.test_alerts import alerts, delivered

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(ChannelPlugin, "delivery_retry_delay", 0.01)
    yield
    assert postprocess.flush(20)


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
