"""Both models are in the admin, read-only."""

import pytest

from sentry.client.models import client
from sentry.models import GroupedMessage, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded():
    return Message.objects.get(message_id=client.create_from_text("in the admin"))


def test_the_changelists_list_the_errors(admin_client, recorded):
    for url in ("/admin/sentry/groupedmessage/", "/admin/sentry/message/"):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert b"in the admin" in response.content


def test_the_changelists_filter(admin_client, recorded):
    response = admin_client.get("/admin/sentry/groupedmessage/?status__exact=1")
    assert b"in the admin" not in response.content
    response = admin_client.get("/admin/sentry/message/?level__exact=40")
    assert b"in the admin" in response.content


def test_errors_cannot_be_added_or_changed(admin_client, recorded):
    assert admin_client.get("/admin/sentry/message/add/").status_code == 403
    response = admin_client.post(
        f"/admin/sentry/groupedmessage/{recorded.group_id}/change/",
        {"message": "edited"},
    )
    assert response.status_code == 403
    assert GroupedMessage.objects.get().message == "in the admin"


def test_the_detail_page_shows_the_error(admin_client, recorded):
    response = admin_client.get(f"/admin/sentry/message/{recorded.pk}/change/")
    assert response.status_code == 200
    assert b"in the admin" in response.content


def test_set_aside_events_are_listed_read_only(admin_client):
    from sentry import queue

    queue.enqueue("default", [queue.Entry("c" * 32, "event", b"[]", site="shop")])

    response = admin_client.get("/admin/sentry/queuedevent/")

    assert response.status_code == 200
    assert "c" * 32 in response.content.decode()
    assert admin_client.get("/admin/sentry/queuedevent/add/").status_code == 403
