"""The client side of django-sentry: capture this site's errors."""


def get_client():
    """Return the configured client (``SENTRY_CLIENT``), created once."""
    from .models import get_client as _get_client

    return _get_client()
