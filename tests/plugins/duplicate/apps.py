from django.apps import AppConfig


class DuplicateConfig(AppConfig):
    """A second plugin that takes the servers plugin's slug."""

    name = "tests.plugins.duplicate"
    label = "tests_duplicate_plugin"
    sentry_plugin = "tests.plugins.duplicate.apps.Duplicate"


from sentry.plugins.sentry_servers.plugin import ServersPlugin  # noqa: E402


class Duplicate(ServersPlugin):
    title = "Duplicate"
