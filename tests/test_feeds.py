"""RSS feeds of occurrences and unresolved errors."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from sentry.api.tokens import ApiToken
from sentry.client.models import client as sentry_client
from sentry.models import GroupedMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(django_user_model):
    user = django_user_model.objects.create_user("reader", is_staff=True)
    return ApiToken.objects.create_token(user)[1]


def test_the_occurrence_feed_lists_the_latest_with_filters(token):
    sentry_client.create_from_text("payment failed", logger="payments")
    sentry_client.create_from_text("disk <full>", logger="storage")
    url = reverse("sentry:feed-messages")

    everything = Client().get(url, {"token": token})
    payments = Client().get(url, {"token": token, "logger": "payments"})

    assert everything.status_code == 200
    assert everything["Content-Type"].startswith("application/rss+xml")
    assert b"payment failed" in everything.content
    assert b"disk &lt;full&gt;" in everything.content
    assert b"payment failed" in payments.content
    assert b"disk" not in payments.content


def test_the_group_feed_lists_unresolved_errors_only(token):
    sentry_client.create_from_text("still broken")
    sentry_client.create_from_text("fixed already")
    GroupedMessage.objects.filter(message="fixed already").update(status=1)

    content = Client().get(reverse("sentry:feed-groups"), {"token": token}).content

    assert b"still broken" in content
    assert b"fixed already" not in content


def test_a_staff_session_reads_the_feeds(django_user_model):
    user = django_user_model.objects.create_user("staff", is_staff=True)
    browser = Client()
    browser.force_login(user)
    assert browser.get(reverse("sentry:feed-groups")).status_code == 200


@pytest.mark.parametrize("name", ["sentry:feed-messages", "sentry:feed-groups"])
def test_feeds_refuse_anonymous_readers_and_bad_tokens(name):
    assert Client().get(reverse(name)).status_code == 403
    assert Client().get(reverse(name), {"token": "sntr_wrong"}).status_code == 403


@override_settings(SENTRY_PUBLIC=True)
def test_public_mode_opens_the_feeds():
    assert Client().get(reverse("sentry:feed-groups")).status_code == 200
