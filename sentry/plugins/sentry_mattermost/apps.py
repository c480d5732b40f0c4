from django.apps import AppConfig


class SentryMattermostConfig(AppConfig):
    name = "sentry.plugins.sentry_mattermost"
    label = "sentry_mattermost"
    verbose_name = "Sentry: Mattermost"
    sentry_plugin = "sentry.plugins.sentry_mattermost.plugin.MattermostPlugin"
