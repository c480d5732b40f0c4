"""
Mail the admins when an error first appears, when a resolved one returns and
when a muted one's mute ends.

Once per appearance, never per occurrence: the storage step reports a group
as created (the unique constraint lets exactly one writer create it) or as
regressed (exactly one writer flips it from resolved), or as unmuted
(exactly one event crosses the mute's threshold). The mail is sent by
the mail plugin (:mod:`sentry.plugins.sentry_mail`) from its post-processing
thread (:mod:`sentry.postprocess`), so recording never waits for a mail
server, and a failure goes to the ``sentry.errors`` logger.
"""

from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from . import postprocess
from .conf import settings
from .constants import LEVEL_NAMES
from .utils.stacks import contains
from .workflow.mute import unmute_text

#: Seconds the SMTP server may take to answer when ``EMAIL_TIMEOUT`` is unset.
SMTP_TIMEOUT = 30


def should_notify(event):
    """Return whether an error (a ``Message``) of this level and logger is mailed."""
    if not settings.ADMINS or event.level < settings.MAIL_LEVEL:
        return False
    name = event.logger
    if settings.MAIL_INCLUDE_LOGGERS and not contains(
        settings.MAIL_INCLUDE_LOGGERS, name
    ):
        return False
    return not contains(settings.MAIL_EXCLUDE_LOGGERS, name)


def flush(timeout=10):
    """Wait until the queued mails (and other post-processing) are done."""
    return postprocess.flush(timeout)


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


def build_mail(event, group_id, regressed, recipients, unmuted=None):
    """
    Return the mail (text and HTML) about one group.

    ``unmuted``: the mail is about the end of the group's mute, and says why
    (:func:`unmute_reason`, "" when it is not known); None otherwise.
    """
    title = event.title
    level = LEVEL_NAMES.get(event.level, str(event.level))
    path = reverse("sentry:group", kwargs={"group_id": group_id})
    data = event.data if isinstance(event.data, dict) else {}
    request = data.get("request") or {}
    user = data.get("user") or {}
    context = {
        "event": event,
        "title": title,
        "level": level,
        "regressed": regressed,
        "unmuted": unmuted is not None,
        "unmute_reason": unmuted,
        "url": settings.URL_PREFIX.rstrip("/") + path,
        "request": request,
        "user": user,
    }
    if unmuted is not None:
        kind = "Unmuted"
    else:
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


def unmute_reason(group, now=None):
    """
    Return why ``group``'s mute ended, in its history's words, or "".

    "Unmuted: seen 120 times", "Unmuted: 12 users affected", "Unmuted: the
    mute ended at ... UTC". Read from the group's row, which keeps its mute's
    condition once unmuted, checked in the order the storage checks it
    (:func:`sentry.workflow.mute.unmute_reached`): no query, so the mail
    thread needs no sight of the batch's history rows. A group muted again
    since then, or one whose condition is not met, gives "" (not known).
    """
    if group.muted:
        return ""
    now = now or timezone.now()
    seen_limit, users_limit = group.muted_until_times_seen, group.muted_until_users
    if seen_limit is not None and group.times_seen >= seen_limit:
        return unmute_text("count", seen_limit, None)
    if users_limit is not None and group.users >= users_limit:
        return unmute_text("users", users_limit, None)
    if group.muted_until is not None and group.muted_until <= now:
        return unmute_text("until", None, group.muted_until)
    return ""
