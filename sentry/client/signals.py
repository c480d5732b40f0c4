"""Capture the exceptions that escape Django views."""

import sys

from django.conf import settings as django_settings

from ..conf import settings


def sentry_exception_handler(request=None, **kwargs):
    """Record the exception being handled (``got_request_exception`` receiver)."""
    try:
        if django_settings.DEBUG and not settings.TESTING:
            return
        from .models import get_client

        get_client().create_from_exception(
            sys.exc_info(),
            request=request,
            # It escaped the view: nobody handled it.
            mechanism={"type": "django", "handled": False},
        )
    except Exception:
        # The client never raises, but the receiver must not either.
        pass
