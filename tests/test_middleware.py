"""404 recording and the X-Sentry-ID response header."""

import logging
import re

import pytest
from django.conf import settings
from django.test import Client, override_settings

from sentry.models import GroupedMessage, Message

pytestmark = pytest.mark.django_db

ERROR_ID = "sentry.client.middleware.SentryResponseErrorIdMiddleware"
CATCH_404 = "sentry.client.middleware.Sentry404CatchMiddleware"


def with_middleware(*extra):
    return override_settings(MIDDLEWARE=[*extra, *settings.MIDDLEWARE])


@with_middleware(CATCH_404)
def test_404s_are_recorded_as_info_on_the_http404_logger():
    Client().get("/missing/page/?q=1")
    Client().get("/another/missing/")

    group = GroupedMessage.objects.get()
    assert group.logger == "http404"
    assert group.level == logging.INFO
    assert group.times_seen == 2
    assert sorted(Message.objects.values_list("url", flat=True)) == [
        "http://testserver/another/missing/",
        "http://testserver/missing/page/?q=1",
    ]


@with_middleware(CATCH_404)
@override_settings(
    IGNORABLE_404_URLS=[re.compile(r"^/favicon\.ico$"), re.compile(r"\.php$")]
)
def test_ignorable_404s_are_not_recorded():
    Client().get("/favicon.ico")
    Client().get("/wp-login.php")

    assert not Message.objects.exists()


@with_middleware(CATCH_404)
def test_other_responses_are_not_recorded():
    assert Client().get("/ok/").status_code == 200

    assert not Message.objects.exists()


@with_middleware(ERROR_ID)
def test_a_recorded_error_s_id_is_in_the_response():
    response = Client(raise_request_exception=False).get("/boom/")

    assert response.status_code == 500
    message = Message.objects.get()
    assert response["X-Sentry-ID"] == message.message_id


@with_middleware(ERROR_ID, CATCH_404)
def test_a_recorded_404_s_id_is_in_the_response():
    response = Client().get("/nowhere/")

    assert response["X-Sentry-ID"] == Message.objects.get().message_id


@with_middleware(ERROR_ID)
def test_responses_without_a_recorded_error_have_no_id():
    assert "X-Sentry-ID" not in Client().get("/ok/")
