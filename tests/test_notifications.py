"""Mail to SENTRY_ADMINS: once per new or returning error, never per event."""

import datetime as dt
import logging

import django
import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from sentry import notifications, pipeline
from sentry.client.models import client
from sentry.models import GroupedMessage, Message
from tests.dashboard_factories import staff_client
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


# --- a muted error whose mute ends ---------------------------------------------


def mute(group, **form):
    """Mute through the dashboard's own form, as staff do."""
    response = staff_client().post(reverse("sentry:mute", args=[group.pk]), form)
    assert response.status_code == 302


def record_user(message, user_id):
    pipeline.record(
        pipeline.prepare(
            {"message": message, "data": {"user": {"id": user_id}}}, shaped=True
        )
    )


@admins
def test_a_mute_that_ends_at_its_count_is_mailed_once_as_unmuted():
    client.create_from_text("queue stalled")
    group = GroupedMessage.objects.get()
    mute(group, count="2")

    # Muted: the first is not mailed; the second ends the mute and is.
    client.create_from_text("queue stalled")
    client.create_from_text("queue stalled")
    # Unmuted now: an event like any other, not mailed again.
    client.create_from_text("queue stalled")

    messages = sent()
    assert [m.subject for m in messages] == [
        "[Sentry] New error (ERROR): queue stalled",
        "[Sentry] Unmuted (ERROR): queue stalled",
    ]
    unmuted = messages[1]
    assert unmuted.body.startswith(
        "A muted error is back (error, logger root):\n\nqueue stalled\n\n"
        "Unmuted: seen 3 times.\n\nSee it: "
    )
    assert f"https://errors.example.com/sentry/group/{group.pk}/" in unmuted.body
    html = unmuted.alternatives[0][0]
    assert "A muted error is back" in html
    assert "<p data-unmute-reason>Unmuted: seen 3 times.</p>" in html


@admins
def test_a_mute_that_ends_at_its_users_is_mailed_with_that_reason():
    record_user("checkout failed", "u1")
    group = GroupedMessage.objects.get()
    mute(group, users="2")

    for user_id in ("u1", "u2", "u2", "u3"):
        record_user("checkout failed", user_id)

    bodies = [m.body.splitlines()[:5] for m in sent()]
    assert bodies == [
        [
            "A new error (error, logger root):",
            "",
            "checkout failed",
            "",
            "See it: " + bodies[0][4].removeprefix("See it: "),
        ],
        [
            "A muted error is back (error, logger root):",
            "",
            "checkout failed",
            "",
            "Unmuted: 3 users affected.",
        ],
    ]


@admins
def test_a_mute_until_a_date_is_mailed_with_the_moment_it_ended():
    client.create_from_text("cron late")
    group = GroupedMessage.objects.get()
    then = timezone.now() + dt.timedelta(hours=1)
    mute(group, until=then.strftime("%Y-%m-%dT%H:%M"))
    client.create_from_text("cron late")
    ended = (timezone.now() - dt.timedelta(minutes=5)).replace(microsecond=0)
    GroupedMessage.objects.update(muted_until=ended)

    client.create_from_text("cron late")

    messages = sent()
    assert [m.subject for m in messages][1:] == ["[Sentry] Unmuted (ERROR): cron late"]
    assert (
        f"\n\nUnmuted: the mute ended at {ended:%Y-%m-%d %H:%M} UTC.\n\n"
        in messages[1].body
    )


@admins
def test_an_unmute_below_the_mail_level_is_not_mailed():
    client.create_from_text("just so you know", level=logging.WARNING)
    mute(GroupedMessage.objects.get(), count="1")

    client.create_from_text("just so you know", level=logging.WARNING)

    assert sent() == []
    assert not GroupedMessage.objects.get().muted


@admins
def test_a_hand_made_unmute_is_not_mailed():
    # Only an event that ends a mute is news; a person unmuting knows.
    client.create_from_text("queue stalled")
    group = GroupedMessage.objects.get()
    staff = staff_client()
    staff.post(reverse("sentry:mute", args=[group.pk]), {})
    staff.post(reverse("sentry:unmute", args=[group.pk]))
    assert not GroupedMessage.objects.get().muted
    client.create_from_text("queue stalled")

    assert [m.subject for m in sent()] == ["[Sentry] New error (ERROR): queue stalled"]


@admins
def test_an_unmute_whose_reason_is_unknown_still_says_unmuted():
    client.create_from_text("<b>queue</b> stalled")
    event = Message.objects.get()

    message = notifications.build_mail(
        event, event.group_id, False, ["ops@example.com"], unmuted=""
    )

    assert message.subject == "[Sentry] Unmuted (ERROR): <b>queue</b> stalled"
    assert message.body.startswith("A muted error is back (error, logger root):")
    assert "Unmuted" not in message.body
    html = message.alternatives[0][0]
    assert "<b>queue</b>" not in html and "&lt;b&gt;queue&lt;/b&gt;" in html
    # A group muted again since: why the mute ended is not known.
    GroupedMessage.objects.update(muted=True, muted_until_times_seen=1)
    assert notifications.unmute_reason(GroupedMessage.objects.get()) == ""
