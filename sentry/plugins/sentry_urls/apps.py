from django.apps import AppConfig


class SentryUrlsConfig(AppConfig):
    name = "sentry.plugins.sentry_urls"
    label = "sentry_urls"
    verbose_name = "Sentry: URLs"
    sentry_plugin = "sentry.plugins.sentry_urls.plugin.UrlsPlugin"
