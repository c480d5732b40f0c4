"""SENTRY_THRASHING_*: identical errors are bounded in rows, never in counts."""

import contextlib
import datetime as dt
import time

import pytest
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sentry import pipeline, storage
from sentry.client.models import client
from sentry.db import get_write_alias, run_in_transaction
from sentry.models import (
    GroupedMessage,
    Message,
    MessageCountByMinute,
    MessageFilterValue,
)
from sentry.storage import FloodGuard, store_batch
from tests.test_concurrency import WORKERS, run_workers

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
def test_an_unavailable_cache_changes_nothing():
    """The bound is kept in the group's row; the cache only guesses."""
    ids = [client.create_from_text("cache down") for _ in range(4)]

    assert all(ids)
    assert Message.objects.count() == 2
    assert GroupedMessage.objects.get().times_seen == 4


@override_settings(
    SENTRY_THRASHING_LIMIT=3,
    SENTRY_THRASHING_TIMEOUT=60,
    CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
)
def test_the_bound_holds_without_any_cache():
    # A cache that keeps nothing: each process alone would store them all.
    for _ in range(8):
        client.create_from_text("no cache")
    assert Message.objects.count() == 3


@override_settings(SENTRY_THRASHING_LIMIT=3, SENTRY_THRASHING_TIMEOUT=60)
def test_a_batch_is_bounded_too():
    events = [pipeline.prepare({"message": "batched flood"}) for _ in range(10)]
    results = store_batch_now(events)
    assert [result.stored for result in results] == [True] * 3 + [False] * 7
    assert Message.objects.count() == 3
    assert GroupedMessage.objects.get().times_seen == 10
    # The next batch, in the same window: nothing more.
    more = store_batch_now([pipeline.prepare({"message": "batched flood"})])
    assert not more[0].stored
    assert Message.objects.count() == 3


@override_settings(SENTRY_THRASHING_LIMIT=2, SENTRY_THRASHING_TIMEOUT=60)
def test_a_new_window_stores_again():
    for _ in range(5):
        client.create_from_text("windowed")
    assert Message.objects.count() == 2
    group = GroupedMessage.objects.get()
    # The window began more than a minute ago.
    GroupedMessage.objects.filter(pk=group.pk).update(
        flood_started=timezone.now() - dt.timedelta(seconds=61)
    )
    for _ in range(5):
        client.create_from_text("windowed")
    assert Message.objects.count() == 4
    assert GroupedMessage.objects.get().times_seen == 10


@override_settings(SENTRY_THRASHING_LIMIT=5, SENTRY_THRASHING_TIMEOUT=60)
def test_a_lower_limit_applies_within_the_window():
    for _ in range(4):
        client.create_from_text("limit lowered")
    with override_settings(SENTRY_THRASHING_LIMIT=2):
        for _ in range(3):
            client.create_from_text("limit lowered")
    assert Message.objects.count() == 4
    assert GroupedMessage.objects.get().times_seen == 7


def store_batch_now(events):
    return run_in_transaction(
        lambda using: store_batch(using, events), get_write_alias(Message)
    )


@given(
    steps=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 90)), min_size=1, max_size=12
    ),
    limit=st.integers(1, 5),
)
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_the_database_and_the_model_agree(steps, limit):
    """
    Batches of ``wanted`` rows ``seconds`` apart, written through the SQL of
    the store, keep what :class:`FloodGuard` says in Python.
    """
    GroupedMessage.objects.all().delete()
    now = timezone.now()
    started, stored = None, 0
    for wanted, seconds in steps:
        now += dt.timedelta(seconds=seconds)
        guard = FloodGuard(now, 60, limit)
        started, stored, expected = guard.kept(started, stored, wanted)
        events = [pipeline.prepare({"message": "model"}) for _ in range(max(wanted, 1))]
        results = run_in_transaction(
            lambda using, events=events, wanted=wanted, now=now: _store_at(
                using, events, wanted, now, limit
            ),
            get_write_alias(Message),
        )
        assert sum(result.stored for result in results) == expected


def _store_at(using, events, wanted, now, limit):
    keep = [index < wanted for index in range(len(events))]
    with (
        override_settings(SENTRY_THRASHING_LIMIT=limit, SENTRY_THRASHING_TIMEOUT=60),
        mock_now(now),
    ):
        return store_batch(using, events, keep)


@contextlib.contextmanager
def mock_now(now):
    """The store's clock at ``now`` (the events keep their own dates)."""
    original = storage.timezone.now
    storage.timezone.now = lambda: now
    try:
        yield
    finally:
        storage.timezone.now = original


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_bound_is_exact_across_processes():
    """
    Four processes, each with a cache of its own, flood one error: twelve
    rows in all (the limit), every occurrence counted.
    """
    per_worker, limit = 40, 12
    results = run_workers(
        "flood-guard", str(per_worker), str(limit), str(time.time() + 2)
    )
    assert sum(r["failed"] for r in results) == 0
    group = GroupedMessage.objects.get()
    assert group.times_seen == WORKERS * per_worker
    assert Message.objects.count() == limit
    assert group.flood_stored == limit
    # Calls held back answer with an occurrence that was stored.
    stored = set(Message.objects.values_list("message_id", flat=True))
    for result in results:
        assert set(result["answered"]) <= stored
