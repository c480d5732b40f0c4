"""
Dashboard plugins.

A plugin is a Django app listed in ``INSTALLED_APPS`` whose ``AppConfig``
names its plugin class in ``sentry_plugin``. It supplies data through the
hooks of :class:`~sentry.plugins.base.Plugin`; the base class renders.
"""

from .base import Action, Plugin, ValueCountPlugin
from .registry import get_plugin, get_plugins

__all__ = ["Action", "Plugin", "ValueCountPlugin", "get_plugin", "get_plugins"]
