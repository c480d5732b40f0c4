"""The pipeline's normalizing of client-sent values (sentry/pipeline.py)."""

import logging

import pytest

from sentry.client.models import client
from sentry.models import Message
from sentry.pipeline import normalize_level


@pytest.mark.parametrize(
    "value, level",
    [
        ("warning", logging.WARNING),
        (" 30 ", 30),
        ("0030", 30),
        (40.0, 40),
        (True, logging.ERROR),
        (1000, logging.ERROR),
        (float("inf"), logging.ERROR),
        # Digits of other scripts: "²".isdigit() is true and int("²") raises.
        ("²", logging.ERROR),
        ("٣٠", logging.ERROR),
        ("1_0", logging.ERROR),
        ("9" * 5000, logging.ERROR),
        ("0" * 40 + "30", logging.ERROR),
        (None, logging.ERROR),
    ],
)
def test_any_level_normalizes_to_a_level_number(value, level):
    assert normalize_level(value) == level


@pytest.mark.django_db
def test_an_event_with_a_unicode_digit_level_is_recorded_as_an_error():
    message_id = client.create_from_text("odd level", level="²")

    assert Message.objects.get(message_id=message_id).level == logging.ERROR
