"""The logging handler: ``sentry.client.handlers.SentryHandler``."""

import logging
import threading


class SentryHandler(logging.Handler):
    """
    Record log records with the configured client.

    Use it from ``LOGGING``::

        "handlers": {"sentry": {"class": "sentry.client.handlers.SentryHandler"}}

    ``extra={"request": request, "url": ..., "view": ..., "data": {...}}`` on
    a record is understood. Records of the ``sentry.*`` loggers are never
    recorded, so a failure while recording cannot feed back into itself.
    """

    def emit(self, record):
        if is_ignored_logger(record.name):
            return
        # A handler may be re-entered from a thread that is already recording
        # (a database backend that logs, for example); do not loop.
        if getattr(_local, "active", False):
            return
        _local.active = True
        try:
            from .models import get_client

            get_client().create_from_record(record)
        except Exception:
            self.handleError(record)
        finally:
            _local.active = False


_local = threading.local()


def is_ignored_logger(name):
    """Return whether records of logger ``name`` are left alone."""
    from ..conf import settings
    from ..utils.stacks import contains

    return contains(("sentry", *settings.IGNORED_LOGGERS), name)
