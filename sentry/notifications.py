"""
Mail the admins when an error first appears and when a resolved one returns.

Once per appearance, never per occurrence: the storage step reports a group
as created (the unique constraint lets exactly one writer create it) or as
regressed (exactly one writer flips it from resolved). Mail is rendered and
sent on a background thread, so recording never waits for a mail server,
and a failure goes to the ``sentry.errors`` logger.
"""

import atexit
import logging
import queue
import threading
import time

from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.template.loader import render_to_string
from django.urls import reverse

from .conf import settings
from .constants import LEVEL_NAMES
from .utils.stacks import contains

logger = logging.getLogger("sentry.errors")

#: Mails waiting to be sent; more than this and new ones are dropped (logged).
QUEUE_SIZE = 100
#: Seconds the SMTP server may take to answer when ``EMAIL_TIMEOUT`` is unset.
SMTP_TIMEOUT = 30

_queue = queue.Queue(maxsize=QUEUE_SIZE)
_worker = None
_worker_lock = threading.Lock()


def should_notify(event):
    """Return whether an error of this level and logger is worth a mail."""
    if not settings.ADMINS or event["level"] < settings.MAIL_LEVEL:
        return False
    name = event["logger"]
    if settings.MAIL_INCLUDE_LOGGERS and not contains(
        settings.MAIL_INCLUDE_LOGGERS, name
    ):
        return False
    return not contains(settings.MAIL_EXCLUDE_LOGGERS, name)


def notify(event, result):
    """Queue a mail about a new or regressed group (see :mod:`sentry.storage`)."""
    if not (result.created or result.regressed) or not should_notify(event):
        return
    try:
        _queue.put_nowait(
            (event, result.group_id, result.regressed, list(settings.ADMINS))
        )
    except queue.Full:
        logger.error(
            "Too many mails waiting: not mailing about %s", event["message_id"]
        )
        return
    _ensure_worker()


def flush(timeout=10):
    """Wait until the queued mails are sent (tests, interpreter exit)."""
    # No helper thread: none can be started while the interpreter exits.
    deadline = time.monotonic() + timeout
    with _queue.all_tasks_done:
        while _queue.unfinished_tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            _queue.all_tasks_done.wait(remaining)
    return True


def _ensure_worker():
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="sentry-mailer", daemon=True)
            _worker.start()


def _work():
    while True:
        event, group_id, regressed, recipients = _queue.get()
        try:
            send(build_mail(event, group_id, regressed, recipients))
        except Exception:
            logger.exception("Unable to mail about %s", event.get("message_id"))
        finally:
            _queue.task_done()


def send(mail):
    """Send ``mail``; a mail server that never answers cannot hold the thread."""
    connection = default_mailer()
    if isinstance(connection, SMTPBackend) and connection.timeout is None:
        # Django waits for the SMTP server without limit by default: one
        # server that accepts and never answers would stop every later mail.
        connection.timeout = SMTP_TIMEOUT
    connection.send_messages([mail])


def default_mailer():
    """Return a new connection of the site's default mailer."""
    try:
        # Django 6.1 configures mail through MAILERS; get_connection() and
        # the EMAIL_* settings are deprecated there.
        from django.core.mail import mailers
    except ImportError:
        return get_connection()
    return mailers.default


def build_mail(event, group_id, regressed, recipients):
    """Return the mail (text and HTML) about one group."""
    title = event_title(event)
    level = LEVEL_NAMES.get(event["level"], str(event["level"]))
    path = reverse("sentry:group", kwargs={"group_id": group_id})
    request = (event.get("data") or {}).get("request") or {}
    user = (event.get("data") or {}).get("user") or {}
    context = {
        "event": event,
        "title": title,
        "level": level,
        "regressed": regressed,
        "url": settings.URL_PREFIX.rstrip("/") + path,
        "request": request,
        "user": user,
    }
    kind = "Regression" if regressed else "New error"
    subject = f"{settings.EMAIL_SUBJECT_PREFIX}{kind} ({level.upper()}): {title}"
    # Mail headers must be one line.
    subject = " ".join(subject.split())[:200]
    mail = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("sentry/emails/error.txt", context),
        to=recipients,
    )
    mail.attach_alternative(
        render_to_string("sentry/emails/error.html", context), "text/html"
    )
    return mail


def event_title(event):
    first_line = (event["message"] or "").split("\n", 1)[0]
    if event.get("class_name") and not first_line.startswith(event["class_name"]):
        return f"{event['class_name']}: {first_line}"
    return first_line


atexit.register(flush, 2)
