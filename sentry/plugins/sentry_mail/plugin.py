import logging

from django.core.mail import EmailMessage

from ... import notifications
from ...alerts import config
from ...alerts.plugin import ChannelPlugin
from ...conf import settings

logger = logging.getLogger("sentry.errors")


class MailPlugin(ChannelPlugin):
    """
    Mail :setting:`SENTRY_ADMINS` about a new error, a returning one and one
    whose mute ended.

    Runs whether or not its app is installed (see
    :func:`sentry.postprocess.processors`), with the ``SENTRY_MAIL_*``
    settings deciding which errors are mailed. Also delivers the rules'
    ``"mail"`` channels.
    """

    slug = "mail"
    title = "Mail"
    kind = "mail"
    # Not tried again: the server may have taken the mail before it failed
    # (SMTP cannot tell), and a mail twice is worse than once.
    delivery_attempts = 1

    def wants_post_process(self):
        # The base class is asked first, and always: it also says whether
        # every event is wanted.
        wanted = super().wants_post_process()
        return bool(settings.ADMINS) or wanted

    def post_process(self, group, event, is_new, is_regression, **kwargs):
        is_unmuted = kwargs.get("is_unmuted", False)
        if (is_new or is_regression or is_unmuted) and notifications.should_notify(
            event
        ):
            self.mail(group, event, is_regression, list(settings.ADMINS), is_unmuted)
        if config.usable()[0]:
            super().post_process(group, event, is_new, is_regression, **kwargs)

    def deliver(self, channel, group, event, about):
        if about["kind"] == "summary":
            # No event to build the usual mail from: the summary's own.
            notifications.send(
                EmailMessage(
                    subject=(
                        f"{settings.EMAIL_SUBJECT_PREFIX}{about['headline']} "
                        f"in {about['project']}"
                    ),
                    body=f"{about['title'].capitalize()}:\n\n{about['url']}\n",
                    to=list(channel.to),
                )
            )
            return
        mail = notifications.build_mail(
            event, group.pk, about["kind"] == "regression", list(channel.to)
        )
        if about["kind"] not in ("new", "regression"):
            # An unmute, a count reached: the subject says which, not "New".
            subject = (
                f"{settings.EMAIL_SUBJECT_PREFIX}{about['headline']} "
                f"({about['level'].upper()}): {about['title']}"
            )
            mail.subject = " ".join(subject.split())[:200]
        notifications.send(mail)

    def mail(self, group, event, is_regression, recipients, is_unmuted=False):
        try:
            unmuted = None
            if is_unmuted:
                unmuted = notifications.unmute_reason(group)
            mail = notifications.build_mail(
                event, group.pk, is_regression, recipients, unmuted=unmuted
            )
            notifications.send(mail)
        except Exception:
            logger.exception("Unable to mail about %s", event.message_id)
