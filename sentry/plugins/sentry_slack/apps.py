from django.apps import AppConfig


class SentrySlackConfig(AppConfig):
    name = "sentry.plugins.sentry_slack"
    label = "sentry_slack"
    verbose_name = "Sentry: Slack"
    sentry_plugin = "sentry.plugins.sentry_slack.plugin.SlackPlugin"
