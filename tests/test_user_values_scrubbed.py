"""Who the user is: the value counters hold only what scrubbing left of it."""

import pytest

from sentry.models import GroupUser, MessageFilterValue
from tests.ingest_factories import make_key, message_event, post_events

pytestmark = pytest.mark.django_db

USER = {"id": "42", "email": "jane@example.com", "ip_address": "203.0.113.9"}


def counted(key):
    return set(
        MessageFilterValue.objects.filter(key=key).values_list("value", flat=True)
    )


def test_user_fields_are_counted_as_sent_by_default(client):
    post_events(client, make_key(), [message_event("x", user=USER)])
    assert counted("user.email") == {"jane@example.com"}
    assert counted("user.ip") == {"203.0.113.9"}


def test_scrub_fields_keep_e_mail_and_address_out_of_the_counters(client, settings):
    settings.SENTRY_SCRUB_FIELDS = ("email", "ip_address")
    post_events(client, make_key(), [message_event("x", user=USER)])
    stored = " ".join(MessageFilterValue.objects.values_list("value", flat=True))
    assert "jane@example.com" not in stored
    assert "203.0.113.9" not in stored
    # Still one user: counted by id, which was not scrubbed.
    assert counted("user.id") == {"42"}
    assert GroupUser.objects.count() == 1
