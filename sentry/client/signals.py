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

        message_id = get_client().create_from_exception(
            sys.exc_info(),
            request=request,
            # It escaped the view: nobody handled it.
            mechanism={"type": "django", "handled": False},
        )
        remember_on_request(request, message_id)
    except Exception:
        # The client never raises, but the receiver must not either.
        pass


def remember_on_request(request, message_id):
    """Keep a recorded id on the request, for error pages and response headers."""
    if request is not None and message_id:
        try:
            request.sentry = {"id": message_id}
        except Exception:
            pass
