import logging

from ... import notifications
from ...conf import settings
from ..base import Plugin

logger = logging.getLogger("sentry.errors")


class MailPlugin(Plugin):
    """
    Mail :setting:`SENTRY_ADMINS` about a new error and a returning one.

    Runs whether or not its app is installed (see
    :func:`sentry.postprocess.processors`), with the ``SENTRY_MAIL_*``
    settings deciding which errors are mailed.
    """

    slug = "mail"
    title = "Mail"
    post_process_only_changes = True

    def wants_post_process(self):
        return bool(settings.ADMINS)

    def post_process(self, group, event, is_new, is_regression, **kwargs):
        if not (is_new or is_regression) or not notifications.should_notify(event):
            return
        mail = notifications.build_mail(
            event, group.pk, is_regression, list(settings.ADMINS)
        )
        try:
            notifications.send(mail)
        except Exception:
            # Not tried again: the server may have taken the mail before it
            # failed (SMTP cannot tell), and a mail twice is worse than once.
            logger.exception("Unable to mail about %s", event.message_id)
