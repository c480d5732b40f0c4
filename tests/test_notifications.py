"""Mail to SENTRY_ADMINS: once per new or returning error, never per event."""

import logging

import django
import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory, override_settings

from sentry import notifications
from sentry.client.models import client
from sentry.models import GroupedMessage
from tests.factories import raise_and_capture

pytestmark = pytest.mark.django_db

admins = override_settings(
    SENTRY_ADMINS=["ops@example.com"], SENTRY_URL_PREFIX="https://errors.example.com"
)


def sent():
    assert notifications.flush(), "the mail queue did not drain"
    return list(mail.outbox)


@admins
def test_a_new_error_is_mailed_once_however_often_it_happens():
    for _ in range(5):
        raise_and_capture(ValueError("card declined"))

    [message] = sent()
    group = GroupedMessage.objects.get()
    assert message.to == ["ops@example.com"]
    assert message.subject == "[Sentry] New error (ERROR): ValueError: card declined"
    assert f"https://errors.example.com/sentry/group/{group.pk}/" in message.body
    assert "Traceback (most recent call last)" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="https://errors.example.com/sentry/group/{group.pk}/"' in html


@admins
def test_a_resolved_error_that_returns_is_mailed_as_a_regression():
    client.create_from_text("queue stalled")
    GroupedMessage.objects.update(status=GroupedMessage.STATUS_RESOLVED)
    client.create_from_text("queue stalled")
    client.create_from_text("queue stalled")

    subjects = [m.subject for m in sent()]
    assert subjects == [
        "[Sentry] New error (ERROR): queue stalled",
        "[Sentry] Regression (ERROR): queue stalled",
    ]


@admins
def test_the_request_and_user_are_summarised(django_user_model):
    request = RequestFactory().post("/checkout/?step=2")
    request.user = django_user_model(pk=3, username="jane", email="jane@example.com")

    raise_and_capture(KeyError("sku"), request=request)

    [message] = sent()
    assert "POST http://testserver/checkout/?step=2" in message.body
    assert "jane <jane@example.com>" in message.body


@admins
def test_html_in_an_error_is_escaped_in_the_html_part():
    client.create_from_text("<script>alert(1)</script>")

    [message] = sent()
    html = message.alternatives[0][0]
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


@admins
def test_errors_below_the_mail_level_are_not_mailed():
    client.create_from_text("just so you know", level=logging.WARNING)

    assert sent() == []


@admins
@override_settings(
    SENTRY_MAIL_LEVEL=logging.WARNING, SENTRY_MAIL_EXCLUDE_LOGGERS=["noisy"]
)
def test_the_level_and_loggers_are_configurable():
    client.create_from_text("warned", level=logging.WARNING)
    client.create_from_text("ignored", logger="noisy.child")

    assert [m.subject for m in sent()] == ["[Sentry] New error (WARNING): warned"]


@admins
@override_settings(SENTRY_MAIL_INCLUDE_LOGGERS=["payments"])
def test_include_loggers_restricts_the_mails():
    client.create_from_text("elsewhere", logger="shop")
    client.create_from_text("charge failed", logger="payments.stripe")

    assert [m.subject for m in sent()] == ["[Sentry] New error (ERROR): charge failed"]


def test_without_admins_nothing_is_mailed():
    client.create_from_text("nobody to tell")

    assert sent() == []


SMTP = "django.core.mail.backends.smtp.EmailBackend"


def mail_backend(path):
    if django.VERSION >= (6, 1):
        return override_settings(MAILERS={"default": {"BACKEND": path}})
    return override_settings(EMAIL_BACKEND=path)


@admins
@mail_backend("tests.test_notifications.BrokenBackend")
def test_a_failing_mail_server_leaves_recording_unharmed(sentry_errors):
    message_id = client.create_from_text("mail server down")

    assert message_id is not None
    assert notifications.flush()
    assert any("Unable to mail" in r.getMessage() for r in sentry_errors)


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("no SMTP server")


@admins
@mail_backend("django.core.mail.backends.smtp.EmailBackend")
def test_a_mail_server_that_never_answers_cannot_hold_the_mailer(
    sentry_errors, monkeypatch
):
    import socket
    import time

    silent = socket.create_server(("127.0.0.1", 0))
    host, port = silent.getsockname()
    monkeypatch.setattr(notifications, "SMTP_TIMEOUT", 0.5)
    try:
        if django.VERSION >= (6, 1):
            smtp = {"host": host, "port": port}
            mailer = override_settings(
                MAILERS={"default": {"BACKEND": SMTP, "OPTIONS": smtp}}
            )
        else:
            mailer = override_settings(
                EMAIL_BACKEND=SMTP, EMAIL_HOST=host, EMAIL_PORT=port
            )
        with mailer:
            start = time.monotonic()
            client.create_from_text("mail server silent")
            assert notifications.flush(timeout=10)
            assert time.monotonic() - start < 5
    finally:
        silent.close()
    assert any("Unable to mail" in r.getMessage() for r in sentry_errors)


@admins
def test_the_mail_names_no_logger_for_an_event_that_named_none():
    from sentry import pipeline

    pipeline.record(pipeline.prepare({"message": "from an SDK", "logger": ""}))
    client.create_from_text("from the site", logger="shop")

    without, named = sent()
    assert without.body.startswith("A new error (error):\n")
    assert "logger <code>" not in without.alternatives[0][0]
    assert named.body.startswith("A new error (error, logger shop):\n")


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite defers a write made inside the host's transaction",
)
@pytest.mark.django_db(transaction=True)
@admins
def test_an_error_caught_in_a_broken_host_transaction_is_still_mailed():
    with transaction.atomic():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")
        except DatabaseError:
            # The host's transaction is aborted; the error is recorded on a
            # connection of its own, and so must be the mail's reading.
            client.create_from_exception()
        transaction.set_rollback(True)

    [message] = sent()
    assert "division by zero" in message.subject


class ReadsFromALaggingReplica:
    """A host router that reads the app's rows from a replica not yet caught up."""

    def db_for_read(self, model, **hints):
        return "other" if model._meta.app_label == "sentry" else None

    def db_for_write(self, model, **hints):
        return "default" if model._meta.app_label == "sentry" else None


@pytest.mark.django_db(databases=["default", "other"])
@override_settings(
    DATABASE_ROUTERS=[f"{__name__}.ReadsFromALaggingReplica"],
    SENTRY_ADMINS=["ops@example.com"],
)
def test_the_mail_reads_the_error_from_where_it_was_written_not_a_replica():
    client.create_from_text("written to default")

    assert [m.subject for m in sent()] == [
        "[Sentry] New error (ERROR): written to default"
    ]
