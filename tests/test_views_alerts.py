"""The alerts page: the settings' channels and rules, read-only, and a test send."""

import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from tests.dashboard_factories import staff_client
from tests.ingest_factories import make_project
from tests.receivers import Receiver

pytestmark = pytest.mark.django_db

SLACK = "https://hooks.slack.example.com/services/T000/B000/SECRETTOKEN"
CHANNELS = {
    "ops": {"plugin": "webhook", "url": "http://127.0.0.1:9/x", "secret": "k3y"},
    "chat": {"plugin": "slack", "url": SLACK},
    "pager": {"plugin": "mail", "to": ["oncall@example.com"]},
}
RULES = [
    {"when": "new", "channels": ["ops", "chat"]},
    {
        "when": "regression",
        "channels": ["pager"],
        "level": "error",
        "environment": "production",
        "tags": {"team": "<b>core</b>"},
    },
]
declared = override_settings(SENTRY_ALERT_CHANNELS=CHANNELS, SENTRY_ALERT_RULES=RULES)


def permitted_staff(django_user_model):
    user = django_user_model.objects.create_user("tester", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_project"))
    browser = Client()
    browser.force_login(user)
    return browser


@declared
def test_the_page_lists_channels_masked_and_rules_in_words():
    body = staff_client().get(reverse("sentry:alerts")).content.decode()

    assert "https://hooks.slack.example.com/…" in body
    assert "SECRETTOKEN" not in body and "/services/" not in body
    assert "k3y" not in body
    assert "(signed)" in body
    assert "oncall@example.com" in body
    assert "A new error" in body and "A regression" in body
    assert "level = error or worse" in body
    assert "environment = production" in body
    assert "tag team = &lt;b&gt;core&lt;/b&gt;" in body
    assert "sentry.plugins.sentry_webhooks is not installed" in body


@declared
def test_staff_without_the_permission_see_no_test_button():
    body = staff_client().get(reverse("sentry:alerts")).content.decode()

    assert "Send a test notification" not in body


@override_settings(SENTRY_ALERT_CHANNELS={"x": "not a dict"})
def test_settings_that_cannot_be_read_are_said_on_the_page():
    body = staff_client().get(reverse("sentry:alerts")).content.decode()

    assert "These settings cannot be read: channel &#x27;x&#x27;" in body
    assert "No alert is sent until they are corrected" in body


def test_a_rules_project_is_named_only_to_staff_who_see_it(django_user_model):
    secret = make_project(5, slug="ledger")
    secret.member_groups.add(Group.objects.create(name="finance"))
    rules = [{"when": "new", "channels": ["pager"], "project": "ledger"}]
    with override_settings(SENTRY_ALERT_CHANNELS=CHANNELS, SENTRY_ALERT_RULES=rules):
        body = staff_client().get(reverse("sentry:alerts")).content.decode()

    assert "ledger" not in body
    assert "project = (hidden)" in body


@declared
def test_a_test_notification_reaches_a_webhook_and_the_page_says_so(
    django_user_model,
):
    with Receiver() as receiver:
        channels = {"ops": {"plugin": "webhook", "url": receiver.url(), "secret": "k"}}
        with override_settings(
            SENTRY_ALERT_CHANNELS=channels,
            SENTRY_ALERT_RULES=[],
            SENTRY_ALERTS_ALLOWED_NETWORKS=["127.0.0.1/32"],
            INSTALLED_APPS=_with_channel_apps(),
        ):
            response = permitted_staff(django_user_model).post(
                reverse("sentry:alerts-test", args=["ops"])
            )

    assert response.status_code == 200
    assert (
        "Test notification to “ops”: sent, answered 200." in response.content.decode()
    )
    [request] = receiver.requests
    body = json.loads(request["body"])
    assert body["action"] == "test"
    assert body["group"]["url"] == "http://testserver/sentry/alerts/"
    assert request["headers"]["X-Sentry-Signature"].startswith("sha256=")


@declared
def test_a_test_notification_that_fails_says_why_without_the_url(django_user_model):
    with override_settings(INSTALLED_APPS=_with_channel_apps()):
        response = permitted_staff(django_user_model).post(
            reverse("sentry:alerts-test", args=["chat"])
        )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Test notification to “chat”: not delivered:" in body
    assert "SECRETTOKEN" not in body


@declared
def test_a_test_notification_to_a_mail_channel_is_mailed(django_user_model):
    response = permitted_staff(django_user_model).post(
        reverse("sentry:alerts-test", args=["pager"])
    )

    assert "sent, mailed to oncall@example.com" in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["oncall@example.com"]
    assert message.subject == "[Sentry] Test notification"


@declared
def test_an_unknown_channel_is_a_404(django_user_model):
    browser = permitted_staff(django_user_model)

    assert browser.post(reverse("sentry:alerts-test", args=["nope"])).status_code == 404


def _with_channel_apps():
    from django.conf import settings

    return [
        *settings.INSTALLED_APPS,
        "sentry.plugins.sentry_webhooks",
        "sentry.plugins.sentry_slack",
    ]
