"""
The client singleton: ``from sentry.client.models import client``.

``client`` forwards to an instance of the ``SENTRY_CLIENT`` class, created on
first use and created anew when that setting changes.
"""

import threading

from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from ..conf import settings

_lock = threading.Lock()
_cache = {}


def get_client():
    """Return the instance of the ``SENTRY_CLIENT`` class."""
    path = settings.CLIENT
    instance = _cache.get(path)
    if instance is None:
        with _lock:
            instance = _cache.get(path)
            if instance is None:
                instance = _cache[path] = import_string(path)()
    return instance


def reset_client(**kwargs):
    """Forget the client instance (``SENTRY_CLIENT`` changed)."""
    if kwargs.get("setting") in (None, "SENTRY_CLIENT"):
        _cache.clear()


setting_changed.connect(reset_client, dispatch_uid="sentry.client.reset_client")


class ClientProxy:
    """Stand-in for the configured client that looks it up on every use."""

    def __getattr__(self, name):
        return getattr(get_client(), name)

    def __repr__(self):
        return f"<client proxy for {settings.CLIENT}>"


client = ClientProxy()
