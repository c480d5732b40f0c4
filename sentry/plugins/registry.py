"""
Which plugins are active: exactly the plugin apps in ``INSTALLED_APPS``.

An app is a plugin app when its ``AppConfig`` has a ``sentry_plugin``
attribute naming the plugin class (a dotted path or the class). The list
follows ``INSTALLED_APPS`` order, is built once, and is rebuilt when
``INSTALLED_APPS`` changes (``override_settings`` included).
"""

from django.apps import apps
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

_cache = []


def get_plugins():
    """Return the active plugins, in ``INSTALLED_APPS`` order."""
    if not _cache:
        _cache.append(_load())
    return _cache[0]


def get_plugin(slug):
    """Return the active plugin with this slug, or ``None``."""
    for plugin in get_plugins():
        if plugin.slug == slug:
            return plugin
    return None


def _load():
    plugins = []
    for config in apps.get_app_configs():
        spec = getattr(config, "sentry_plugin", None)
        if spec is None:
            continue
        # A plugin that cannot be imported fails loudly: it was asked for.
        plugin_class = import_string(spec) if isinstance(spec, str) else spec
        plugins.append(plugin_class(config))
    return plugins


def reset(**kwargs):
    if kwargs.get("setting") in (None, "INSTALLED_APPS"):
        _cache.clear()


setting_changed.connect(reset, dispatch_uid="sentry.plugins.registry.reset")
