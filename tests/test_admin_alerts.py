"""The admin's alert channels, rules and delivery log: secrets never shown."""

import pytest
from django.urls import reverse

from sentry.alerts.models import AlertChannel, AlertDelivery, AlertRule
from tests.dashboard_factories import XSS

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.com/services/T000/B000/SECRETTOKEN"


def channel(**fields):
    values = {"name": "ops", "kind": "webhook", "url": HOOK, "secret": "s1gn1ng-k3y"}
    return AlertChannel.objects.create(**{**values, **fields})


def test_the_list_and_change_pages_show_the_url_masked_and_no_secret(admin_client):
    row = channel()
    pages = [
        reverse("admin:sentry_alertchannel_changelist"),
        reverse("admin:sentry_alertchannel_change", args=[row.pk]),
        reverse("admin:sentry_alertchannel_history", args=[row.pk]),
        reverse("admin:sentry_alertchannel_delete", args=[row.pk]),
    ]
    for url in pages:
        response = admin_client.get(url)
        body = response.content.decode()
        assert response.status_code == 200, url
        assert "SECRETTOKEN" not in body and "s1gn1ng-k3y" not in body, url
    assert "https://hooks.example.com/…" in admin_client.get(pages[0]).content.decode()


def test_saving_with_the_url_and_secret_left_empty_keeps_them(admin_client):
    row = channel()
    url = reverse("admin:sentry_alertchannel_change", args=[row.pk])
    response = admin_client.post(
        url, {"kind": "webhook", "url": "", "secret": "", "to": "", "project": ""}
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.url, row.secret, row.enabled) == (HOOK, "s1gn1ng-k3y", False)
    history = admin_client.get(
        reverse("admin:sentry_alertchannel_history", args=[row.pk])
    )
    assert "SECRETTOKEN" not in history.content.decode()


def test_the_admin_refuses_what_the_dashboard_refuses(admin_client):
    add = reverse("admin:sentry_alertchannel_add")
    form = {"name": "ops", "kind": "webhook", "to": "", "project": ""}
    for url in ("ftp://x.example/", "https://u:p@x.example/"):
        response = admin_client.post(add, {**form, "url": url, "enabled": "on"})
        assert response.status_code == 200  # the form again, with its errors
    assert not AlertChannel.objects.exists()

    rules = reverse("admin:sentry_alertrule_add")
    response = admin_client.post(
        rules, {"when": '"always"', "channels": '["nope"]', "level": "0", "tags": "{}"}
    )
    assert response.status_code == 200
    assert "always" in response.content.decode()
    assert not AlertRule.objects.exists()
    channel()
    # One name, as the settings allow it, is stored as a list of one.
    response = admin_client.post(
        rules,
        {"when": '"new"', "channels": '"ops"', "level": "0", "tags": "{}"},
    )
    assert response.status_code == 302
    assert AlertRule.objects.get().channels == ["ops"]


def test_the_delivery_log_is_read_only_and_escaped(admin_client):
    AlertDelivery.objects.create(channel=XSS[:64], ok=False, error=XSS, status=500)
    changelist = reverse("admin:sentry_alertdelivery_changelist")

    body = admin_client.get(changelist).content.decode()
    assert "<script>window.__xss" not in body
    assert admin_client.get(reverse("admin:sentry_alertdelivery_add")).status_code == (
        403
    )
