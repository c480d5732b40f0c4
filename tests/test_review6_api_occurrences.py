"""Hostile searches of one error's occurrences (review 6): never a 500."""

import pytest
from django.test import Client
from django.urls import reverse

from sentry.api.tokens import ApiToken
from tests.dashboard_factories import (
    make_group,
    make_message,
    minutes_ago,
    staff_client,
)

pytestmark = pytest.mark.django_db

SEARCHES = [
    "environment:a\x00b",
    'release:"a\x00b"',
    "user:\x00",
    "environment:" + "x" * 5000,
    "release:" + "é" * 300,
    "!environment:\x00",
]


@pytest.fixture
def api(django_user_model):
    user = django_user_model.objects.create_user("ops", is_staff=True)
    token = ApiToken.objects.create_token(user, scopes=("event:read",))[1]
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("q", SEARCHES)
def test_a_hostile_occurrence_search_is_answered(api, q):
    group = make_group("x")
    messages = [make_message(group, when=minutes_ago(5 - n)) for n in range(3)]
    browser = staff_client()

    listing = api.get(reverse("sentry:api-occurrences", args=[group.pk]), {"q": q})
    assert listing.status_code in (200, 400)
    page = browser.get(reverse("sentry:messages", args=[group.pk]), {"q": q})
    assert page.status_code in (200, 400)
    one = reverse("sentry:message", args=[group.pk, messages[1].message_id])
    assert browser.get(one, {"q": q}).status_code in (200, 400, 404)
    stream = browser.get(reverse("sentry:index"), {"q": q})
    assert stream.status_code in (200, 400)
