from django.apps import AppConfig


class BrowsersConfig(AppConfig):
    name = "browsers"
    verbose_name = "Browsers (django-sentry plugin)"
    # What makes this app a django-sentry plugin.
    sentry_plugin = "browsers.plugin.BrowsersPlugin"
