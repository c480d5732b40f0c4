"""Test helpers for plugin authors."""

from django.test import modify_settings


def plugin_installed(*app_names):
    """
    Install plugin apps for one test (a decorator or a context manager)::

        @plugin_installed("myproject.sentry_browsers")
        def test_the_widget_shows_browsers(...): ...
    """
    return modify_settings(INSTALLED_APPS={"append": list(app_names)})
