from django.apps import AppConfig


class SentryWebhooksConfig(AppConfig):
    name = "sentry.plugins.sentry_webhooks"
    label = "sentry_webhooks"
    verbose_name = "Sentry: Webhooks"
    sentry_plugin = "sentry.plugins.sentry_webhooks.plugin.WebhooksPlugin"
