"""SENTRY_THRASHING_*: identical errors are bounded in rows, never in counts."""

import pytest
from django.test import override_settings

from sentry.client.models import client
from sentry.models import (
    GroupedMessage,
    Message,
    MessageCountByMinute,
    MessageFilterValue,
)

pytestmark = pytest.mark.django_db


@override_settings(SENTRY_THRASHING_LIMIT=3, SENTRY_THRASHING_TIMEOUT=60)
def test_rows_are_bounded_while_every_event_is_counted():
    ids = [client.create_from_text("flood") for _ in range(10)]

    assert Message.objects.count() == 3
    group = GroupedMessage.objects.get()
    assert group.times_seen == 10
    assert (
        MessageFilterValue.objects.get(group=group, key="server_name").times_seen == 10
    )
    assert sum(MessageCountByMinute.objects.values_list("times_seen", flat=True)) == 10
    # Held-back events answer with the last stored occurrence.
    stored = set(Message.objects.values_list("message_id", flat=True))
    assert set(ids[:3]) == stored
    assert all(message_id == ids[2] for message_id in ids[3:])


@override_settings(SENTRY_THRASHING_LIMIT=2, SENTRY_THRASHING_TIMEOUT=60)
def test_the_guard_counts_each_error_separately():
    for _ in range(4):
        client.create_from_text("first error")
        client.create_from_text("second error")

    assert Message.objects.count() == 4
    assert sorted(GroupedMessage.objects.values_list("times_seen", flat=True)) == [4, 4]


@override_settings(SENTRY_THRASHING_LIMIT=0)
def test_a_limit_of_zero_turns_the_guard_off():
    for _ in range(15):
        client.create_from_text("no guard")

    assert Message.objects.count() == 15


@override_settings(
    SENTRY_THRASHING_LIMIT=2,
    CACHES={
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "broken": {
            # Nothing listens on port 1: every cache call fails.
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    },
    SENTRY_CACHE_ALIAS="broken",
)
def test_an_unavailable_cache_turns_the_guard_off_and_loses_nothing():
    ids = [client.create_from_text("cache down") for _ in range(4)]

    assert all(ids)
    assert Message.objects.count() == 4
