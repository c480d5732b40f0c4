from django.apps import AppConfig


class SentryMailConfig(AppConfig):
    name = "sentry.plugins.sentry_mail"
    label = "sentry_mail"
    verbose_name = "Sentry: Mail"
    sentry_plugin = "sentry.plugins.sentry_mail.plugin.MailPlugin"
