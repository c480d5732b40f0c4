"""Plain factory functions for the tests."""

import sys

from sentry.client.models import client


def raise_and_capture(exc, **kwargs):
    """Raise ``exc`` from a fixed place and record it; return the message_id."""
    try:
        fail_with(exc)
    except Exception:
        return client.create_from_exception(**kwargs)


def fail_with(exc):
    raise exc


def exc_info_of(exc):
    try:
        fail_with(exc)
    except Exception:
        return sys.exc_info()
