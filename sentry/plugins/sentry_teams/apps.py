from django.apps import AppConfig


class SentryTeamsConfig(AppConfig):
    name = "sentry.plugins.sentry_teams"
    label = "sentry_teams"
    verbose_name = "Sentry: Teams"
    sentry_plugin = "sentry.plugins.sentry_teams.plugin.TeamsPlugin"
