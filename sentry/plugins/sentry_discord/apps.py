from django.apps import AppConfig


class SentryDiscordConfig(AppConfig):
    name = "sentry.plugins.sentry_discord"
    label = "sentry_discord"
    verbose_name = "Sentry: Discord"
    sentry_plugin = "sentry.plugins.sentry_discord.plugin.DiscordPlugin"
