"""Setting alerts up in a real browser: a webhook channel and a rule, then an alert."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, override_settings

from sentry import postprocess
from sentry.alerts import store
from sentry.alerts.models import AlertChannel, AlertDelivery, AlertRule
from sentry.digest import drain
from sentry.models import GroupedMessage
from sentry.plugins.testing import plugin_installed
from tests.browser import SCREENSHOTS, assert_no_problems, log_in
from tests.dashboard_factories import XSS
from tests.ingest_factories import make_key, message_event, post_events
from tests.receivers import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setter(browser_staff):
    """The browser's staff user, allowed to set alerts up."""
    browser_staff.user_permissions.add(
        Permission.objects.get(codename="change_project")
    )
    return browser_staff


@pytest.fixture
def receiver(live_server):
    store.forget()
    with (
        Receiver() as receiver,
        plugin_installed("sentry.plugins.sentry_webhooks"),
        # The receiver listens on loopback, which alerts refuse by default.
        override_settings(
            SENTRY_ALERTS_ALLOWED_NETWORKS=["127.0.0.1/32"],
            SENTRY_DIGEST="worker",
            SENTRY_URL_PREFIX=live_server.url,
        ),
    ):
        yield receiver
        assert postprocess.flush(20)
    store.forget()


def test_set_up_a_webhook_and_a_rule_then_see_the_alert_delivered_and_logged(
    page, live_server, setter, receiver
):
    log_in(page, live_server, "/sentry/alerts/")

    # A channel: the webhook, with a signing secret.
    page.click("text=New channel")
    page.wait_for_url(live_server.url + "/sentry/alerts/channels/new/")
    page.fill("input[name=name]", "ops")
    page.select_option("select[name=kind]", "webhook")
    page.fill("input[name=url]", receiver.url())
    page.fill("input[name=secret]", "s1gn1ng-k3y")
    page.click("form.alert-setup-form button[type=submit]")
    page.wait_for_selector(".notice.ok")
    assert page.inner_text(".notice.ok") == "Channel saved."
    row = page.inner_text("table.saved-channels tbody tr")
    assert f"http://127.0.0.1:{receiver.port}/…" in row
    assert "(signed)" in row
    html = page.content()
    assert "T0KEN" not in html and "s1gn1ng-k3y" not in html

    # The edit form shows neither the URL nor the secret.
    page.click("table.saved-channels >> text=Edit")
    page.wait_for_selector("form.alert-setup-form")
    assert page.input_value("input[name=url]") == ""
    assert page.input_value("input[name=secret]") == ""
    assert "T0KEN" not in page.content()
    page.goto(live_server.url + "/sentry/alerts/")

    # A rule: a new error goes to it.
    page.click("text=New rule")
    page.wait_for_url(live_server.url + "/sentry/alerts/rules/new/")
    page.select_option("select[name=condition]", "new")
    page.check("input[name=channels][value=ops]")
    page.select_option("select[name=level]", "30")
    page.click("form.alert-setup-form button[type=submit]")
    page.wait_for_selector(".notice.ok")
    assert "A new error" in page.inner_text("table.saved-rules")
    assert "level = warning or worse" in page.inner_text("table.saved-rules")

    # An event through the SDK endpoint and the digest.
    key = make_key()
    post_events(Client(), key, [message_event("Payment gateway timed out")])
    drain()
    assert postprocess.flush(20)
    [request] = receiver.requests
    assert request["path"] == "/hook/T0KEN"
    assert request["headers"]["X-Sentry-Signature"].startswith("sha256=")
    group = GroupedMessage.objects.get()
    assert json.loads(request["body"])["group"]["id"] == group.pk

    # The delivery, in the log on the page, linking to the error.
    page.reload()
    entry = page.inner_text("table.alert-deliveries tbody tr")
    assert "ops" in entry and "HTTP 200" in entry and "delivered" in entry
    assert f"rule {AlertRule.objects.get().pk}" in entry
    page.click("table.alert-deliveries tbody tr a")
    page.wait_for_url(live_server.url + f"/sentry/group/{group.pk}/")
    page.go_back()

    # A test notification to the saved channel.
    page.click("table.saved-channels >> text=Send a test notification")
    page.wait_for_selector("[role=status]")
    assert "Test notification to “ops”: sent, answered 200." in page.inner_text(
        "[role=status]"
    )
    assert len(receiver.requests) == 2
    page.screenshot(path=str(SCREENSHOTS / "alerts-setup.png"), full_page=True)
    assert_no_problems(page)


def test_hostile_names_and_errors_in_the_log_stay_text(
    page, live_server, setter, receiver
):
    AlertChannel.objects.create(name="ops", kind="webhook", url=receiver.url())
    AlertDelivery.objects.create(channel=XSS[:64], rule=XSS, ok=False, error=XSS)
    channels = {XSS: {"plugin": "mail", "to": ["x@example.com"]}}
    with override_settings(SENTRY_ALERT_CHANNELS=channels):
        log_in(page, live_server, "/sentry/alerts/")
        log = page.inner_text("table.alert-deliveries")

    assert "<script>window.__xss = 1</script>" in log
    assert page.evaluate("window.__xss") is None
    assert_no_problems(page)


def test_a_refused_url_says_why_in_the_form(page, live_server, setter, receiver):
    log_in(page, live_server, "/sentry/alerts/channels/new/")
    page.fill("input[name=name]", "ops")
    page.select_option("select[name=kind]", "slack")
    page.fill("input[name=url]", "https://user:pw@hooks.example.com/x")
    page.click("form.alert-setup-form button[type=submit]")
    page.wait_for_selector(".notice.errors")

    assert "user name or password" in page.inner_text(".notice.errors")
    assert not AlertChannel.objects.exists()
