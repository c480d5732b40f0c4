"""
What the alert rules keep under hostile traffic (review 6): a rule that
fires again and again keeps a bounded number of rows.
"""

import time

import pytest

from sentry.alerts.state import AlertFiring
from tests.receivers import Receiver
from tests.test_alert_rules import alerts, at, clock, quick_retries, webhook

pytestmark = pytest.mark.django_db(transaction=True)

__all__ = ["clock", "quick_retries"]  # the fixtures, used by name


def test_a_rule_firing_every_minute_keeps_its_last_firings_only(clock):
    # Each firing claimed a new row and none was ever deleted: an error
    # firing every minute left 1,440 rows a day per rule and channel kind,
    # for as long as the error is kept.
    rule = {"when": {"events": 1, "minutes": 1}, "channels": ["ops"]}
    with Receiver() as receiver, alerts(webhook(receiver), [rule]):
        for minute in range(8):
            at(clock, minute)
        assert len(receiver.requests) == 8
    assert AlertFiring.objects.count() <= 2
    # The last firing is kept: the same minute does not fire again.
    assert max(AlertFiring.objects.values_list("seq", flat=True)) == 8


def test_taking_a_flood_slot_costs_the_same_however_many_were_taken(clock):
    # Each new error of a flooded minute took its slot by counting the
    # minute's slots: a minute of N new errors read N*N/2 index entries, so
    # that a large enough flood outran the plugin's thread.
    from sentry.alerts import flood
    from sentry.alerts.state import AlertFlood
    from tests.ingest_factories import make_project

    project = make_project(7, slug="flooded")

    def minute_with(taken, minute):
        key = flood.Minute("db:1", "webhook", project.pk, clock.set(minute))
        AlertFlood.objects.bulk_create(
            AlertFlood(**key._asdict(), slot=slot, collected=slot > 10)
            for slot in range(1, taken + 1)
        )
        return key

    def cost(key):
        times = []
        for _ in range(15):
            start = time.perf_counter()
            flood._take_slot(key, 10)
            times.append(time.perf_counter() - start)
        return sorted(times)[len(times) // 2]

    few, many = minute_with(100, 1), minute_with(100_000, 2)
    cost(few)  # warm up
    assert cost(many) < 5 * cost(few) + 0.002
    assert AlertFlood.objects.filter(minute=many.minute).count() == 100_015
