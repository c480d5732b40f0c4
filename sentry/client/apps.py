from django.apps import AppConfig


class SentryClientConfig(AppConfig):
    name = "sentry.client"
    label = "sentry_client"
    verbose_name = "Sentry client"

    def ready(self):
        from django.core.signals import got_request_exception

        from .. import checks  # noqa: F401  (registers the system checks)
        from .signals import sentry_exception_handler

        got_request_exception.connect(
            sentry_exception_handler, dispatch_uid="sentry.client.exception_handler"
        )
