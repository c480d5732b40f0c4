"""
The client singleton: ``from sentry.client.models import client``.

``client`` forwards to an instance of the ``SENTRY_CLIENT`` class (by default
the database client, or the remote client when ``SENTRY_REMOTE_URL`` is set),
created on first use and created anew when those settings change.
"""

import threading

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from ..conf import settings

_lock = threading.Lock()
_cache = {}


#: The client that ``SENTRY_REMOTE_URL`` switches to.
REMOTE_CLIENT = "sentry.client.remote.RemoteSentryClient"


def get_client_path():
    """
    Return the dotted path of the client class in use.

    ``SENTRY_CLIENT`` when the project sets it; otherwise the remote client
    when ``SENTRY_REMOTE_URL`` is set, else the database client.
    """
    if not hasattr(django_settings, "SENTRY_CLIENT") and settings.REMOTE_URL:
        return REMOTE_CLIENT
    return settings.CLIENT


def get_client():
    """Return the instance of the client class (see :func:`get_client_path`)."""
    path = get_client_path()
    instance = _cache.get(path)
    if instance is None:
        with _lock:
            instance = _cache.get(path)
            if instance is None:
                instance = _cache[path] = import_string(path)()
    return instance


def reset_client(**kwargs):
    """Forget the client instance (``SENTRY_CLIENT`` changed)."""
    if kwargs.get("setting") in (None, "SENTRY_CLIENT", "SENTRY_REMOTE_URL"):
        _cache.clear()


setting_changed.connect(reset_client, dispatch_uid="sentry.client.reset_client")


class ClientProxy:
    """Stand-in for the configured client that looks it up on every use."""

    def __getattr__(self, name):
        return getattr(get_client(), name)

    def __repr__(self):
        return f"<client proxy for {get_client_path()}>"


client = ClientProxy()
