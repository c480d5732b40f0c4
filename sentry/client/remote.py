"""
The remote client: report this site's errors to central servers.

Used when ``SENTRY_REMOTE_URL`` is set (automatically, unless
``SENTRY_CLIENT`` names another client). Events are prepared here exactly as
the database client prepares them -- shaped, scrubbed, grouped -- then queued
and sent, signed with ``SENTRY_KEY``, by a background thread (see
:mod:`sentry.utils.wire` for the format and
:mod:`sentry.client.transport` for the queue).
"""

from ..utils import wire
from .base import SentryClient
from .transport import get_transport


class RemoteSentryClient(SentryClient):
    """Send errors to the ``store/`` endpoint of the ``SENTRY_REMOTE_URL`` servers."""

    def send(self, event):
        """
        Queue a prepared event for sending; return its ``message_id`` at once.

        The id is generated here, so it is the id the central server stores
        the occurrence under. Delivery failures are logged to
        ``sentry.errors`` with the whole event; when the queue is full the
        event is logged there at once and ``None`` is returned.
        """
        body = wire.encode_event(event)
        if not get_transport().enqueue(body, event):
            return None  # The queue is full: logged, not sent.
        return event["message_id"]

    @property
    def remote_urls(self):
        """The ``store/`` URLs events are sent to (``SENTRY_REMOTE_URL``)."""
        from ..conf import settings

        urls = settings.REMOTE_URL
        return [urls] if isinstance(urls, str) else list(urls or ())

    def flush(self, timeout=None):
        """Wait until queued events are sent; return whether the queue is empty."""
        return get_transport().flush(timeout)
