"""Hostile review of projects: where a queued event of a key may end up."""

import json
import uuid

import pytest

from sentry import queue
from sentry.digest import drain
from sentry.models import GroupedMessage, Message, Project
from sentry.queue import QueuedEvent
from tests.ingest_factories import make_key

pytestmark = pytest.mark.django_db(transaction=True)


def enqueue(project_id, payload=None):
    event_id = uuid.uuid4().hex
    payload = {"event_id": event_id, "message": "boom", **(payload or {})}
    body = json.dumps(payload).encode()
    entry = queue.Entry(
        event_id, queue.KIND_EVENT, body, site="shop", project_id=project_id
    )
    queue.enqueue("default", [entry])
    return event_id


def test_events_queued_for_a_project_deleted_meanwhile_are_set_aside_not_lost():
    make_key(project_id=7)
    make_key(project_id=8, label="blog")
    gone = enqueue(7)
    kept = enqueue(8)
    Project.objects.filter(pk=7).delete()

    drain()

    assert Message.objects.get(message_id=kept).group.project_id == 8
    assert not Message.objects.filter(message_id=gone).exists()
    assert not GroupedMessage.objects.filter(project_id=7).exists()
    row = QueuedEvent.objects.get(event_id=gone)
    assert row.failed


def test_a_payload_naming_another_project_stays_in_its_keys_project():
    make_key(project_id=7)
    make_key(project_id=8, label="blog")
    event_id = enqueue(
        7,
        {
            "message": "boom",
            "project": 8,
            "project_id": 8,
            "sentry.project": "8",
        },
    )

    drain()

    assert Message.objects.get(message_id=event_id).group.project_id == 7


@pytest.mark.parametrize("name", ["9" * 30, "2147483648", "-1", "0x10", "١٢"])
def test_project_names_no_number_can_hold_name_no_project(name):
    from sentry.projects import lookup_project_id

    make_key(project_id=7)

    assert lookup_project_id(name) is None
