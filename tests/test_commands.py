"""Management commands."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from sentry.models import Message


@pytest.mark.django_db
def test_sentry_test_records_an_error_and_says_where_to_see_it():
    out = StringIO()
    with override_settings(SENTRY_URL_PREFIX="https://errors.example.com"):
        call_command("sentry_test", stdout=out)

    message = Message.objects.get()
    assert message.class_name == "SentryTestError"
    text = out.getvalue()
    assert message.message_id in text
    assert f"https://errors.example.com{message.get_absolute_url()}" in text


@pytest.mark.django_db
@override_settings(SENTRY_CLIENT="sentry.client.base.LoggingSentryClient")
def test_sentry_test_with_the_logging_client_names_the_logger():
    out = StringIO()
    call_command("sentry_test", stdout=out)

    assert "sentry.events" in out.getvalue()
    assert not Message.objects.exists()


@pytest.mark.django_db
@override_settings(SENTRY_CLIENT="tests.test_client.ExplodingClient")
def test_sentry_test_fails_loudly_when_nothing_is_recorded():
    with pytest.raises(CommandError, match="Nothing was recorded"):
        call_command("sentry_test", stdout=StringIO())
