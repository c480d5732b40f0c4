from django.apps import AppConfig


class SentryConfig(AppConfig):
    name = "sentry"
    label = "sentry"
    verbose_name = "Sentry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
