from django.apps import AppConfig


class SentrySitesConfig(AppConfig):
    name = "sentry.plugins.sentry_sites"
    label = "sentry_sites"
    verbose_name = "Sentry: Sites"
    sentry_plugin = "sentry.plugins.sentry_sites.plugin.SitesPlugin"
