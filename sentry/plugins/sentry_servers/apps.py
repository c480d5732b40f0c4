from django.apps import AppConfig


class SentryServersConfig(AppConfig):
    name = "sentry.plugins.sentry_servers"
    label = "sentry_servers"
    verbose_name = "Sentry: Servers"
    sentry_plugin = "sentry.plugins.sentry_servers.plugin.ServersPlugin"
