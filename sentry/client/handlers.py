"""The logging handler: ``sentry.client.handlers.SentryHandler``."""

import logging


class SentryHandler(logging.Handler):
    """
    Record log records with the configured client.

    Use it from ``LOGGING``::

        "handlers": {"sentry": {"class": "sentry.client.handlers.SentryHandler"}}

    ``extra={"request": request, "url": ..., "view": ..., "data": {...}}`` on
    a record is understood. Records of the ``sentry.*`` loggers are never
    recorded, so a failure while recording cannot feed back into itself; a
    record logged while this thread is capturing (by a ``__repr__``, or a
    database backend that logs while the event is stored) is refused, as the
    client refuses any re-entrant capture (see :mod:`sentry.client.capture`).
    """

    def emit(self, record):
        if is_ignored_logger(record.name):
            return
        from . import capture

        # One guard for the handler and the client: the capture opened here
        # is the one the client's create_from_record() goes on with, so that
        # a client that is no SentryClient cannot loop either.
        with capture.step(capture.HANDLER) as current:
            if current is None:
                return
            try:
                from .models import get_client

                get_client().create_from_record(record)
            except Exception:
                self.handleError(record)


def is_ignored_logger(name):
    """Return whether records of logger ``name`` are left alone."""
    from ..conf import settings
    from ..utils.stacks import contains

    return contains(("sentry", *settings.IGNORED_LOGGERS), name)
