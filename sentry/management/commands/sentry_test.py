"""``manage.py sentry_test``: record a test error and say where it went."""

from django.core.management.base import BaseCommand, CommandError

from sentry.client.models import get_client
from sentry.conf import settings


class SentryTestError(Exception):
    """The error ``sentry_test`` records."""


class Command(BaseCommand):
    help = "Record a test error through the configured client and say where to see it."

    def handle(self, *args, **options):
        client = get_client()
        try:
            raise SentryTestError("This is a test error sent by manage.py sentry_test.")
        except SentryTestError:
            message_id = client.create_from_exception(logger="sentry.test")
        if not message_id:
            raise CommandError(
                "Nothing was recorded: see the 'sentry.errors' log for the reason."
            )
        self.stdout.write(f"Recorded the test error as {message_id}")
        self.stdout.write(
            f"Client: {type(client).__module__}.{type(client).__qualname__}"
        )
        self.stdout.write(self.where(client, message_id))

    def where(self, client, message_id):
        remote = getattr(client, "remote_urls", None)
        if remote:
            return "Sent to: " + ", ".join(remote)
        from sentry.client.base import LoggingSentryClient

        if isinstance(client, LoggingSentryClient):
            return f"Written to the '{client.logger.name}' logger."
        try:
            from sentry.models import Message

            message = Message.objects.get(message_id=message_id)
        except Exception:
            return "Stored in this site's database."
        url = settings.URL_PREFIX.rstrip("/") + message.get_absolute_url()
        return f"See it at: {url}"
