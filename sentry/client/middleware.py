"""
Middleware for the client side.

* :class:`Sentry404CatchMiddleware` records the site's 404 responses.
* :class:`SentryResponseErrorIdMiddleware` tells the visitor (and support)
  which recorded error their failed request became.
"""

import logging

from django.conf import settings as django_settings

from .models import get_client
from .signals import remember_on_request


class Sentry404CatchMiddleware:
    """
    Record each 404 response as an INFO event of the ``http404`` logger.

    URLs matching Django's ``IGNORABLE_404_URLS`` are left alone. All 404s
    share one group; the URLs are counted per group (see the urls plugin).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 404 and not self.is_ignorable(request):
            message_id = get_client().create_from_text(
                "Http 404", level=logging.INFO, logger="http404", request=request
            )
            remember_on_request(request, message_id)
        return response

    def is_ignorable(self, request):
        path = request.get_full_path()
        return any(
            pattern.search(path)
            for pattern in getattr(django_settings, "IGNORABLE_404_URLS", ())
        )


class SentryResponseErrorIdMiddleware:
    """
    Add ``X-Sentry-ID`` to the response of a request whose error was recorded.

    Put it above (before) the other middleware so that it sees the final
    response. The same id is on ``request.sentry["id"]`` for a custom 500
    page to show.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        recorded = getattr(request, "sentry", None)
        if isinstance(recorded, dict) and recorded.get("id"):
            response["X-Sentry-ID"] = recorded["id"]
        return response
