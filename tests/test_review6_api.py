"""Hostile resolve bodies on the API (review 6): each is a 400 saying why."""

import pytest
from django.urls import reverse

from sentry import pipeline
from sentry.models import GroupedMessage
from tests.dashboard_factories import staff_client

pytestmark = pytest.mark.django_db


def post(body):
    event = {"message": "boom", "data": {"release": "1.0"}}
    pipeline.record(pipeline.prepare(event, shaped=True))
    group = GroupedMessage.objects.get()
    return staff_client("api").post(
        reverse("sentry:api-resolve", args=[group.pk]),
        body,
        content_type="application/json",
    )


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        '{"release": ' + "[" * 100_000,
        '{"release": "\\ud800"}',
        '{"release": {"a": "b"}}',
        '{"release": "1.0", "release": ["x"]}',
        '{"next_release": 1e999}',
        '{"release": "' + "9" * 100_000 + '"}',
        "9" * 5000,
    ],
)
def test_a_hostile_body_is_a_400_and_changes_nothing(body):
    response = post(body)

    assert response.status_code == 400, response.content[:200]
    assert response.json()["detail"]
    assert not GroupedMessage.objects.get().is_resolved
