"""Database router for ``SENTRY_DATABASE_USING`` and ``SENTRY_QUEUE_DATABASE``."""

from django.db import DEFAULT_DB_ALIAS

from .conf import settings

APP_LABELS = frozenset({"sentry"})
#: The model that lives in ``SENTRY_QUEUE_DATABASE`` when it is set.
QUEUE_MODEL = ("sentry", "queuedevent")


class SentryRouter:
    """
    Keep the app's tables in the ``SENTRY_DATABASE_USING`` database, and the
    ingest queue in ``SENTRY_QUEUE_DATABASE``.

    Add ``"sentry.routers.SentryRouter"`` to ``DATABASE_ROUTERS`` when either
    setting names another database.
    """

    def _alias(self, model):
        if model._meta.app_label not in APP_LABELS:
            return None
        if settings.QUEUE_DATABASE and _is_queue(
            model._meta.app_label, model._meta.model_name
        ):
            return settings.QUEUE_DATABASE
        return settings.DATABASE_USING

    def db_for_read(self, model, **hints):
        return self._alias(model)

    def db_for_write(self, model, **hints):
        return self._alias(model)

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        queue = settings.QUEUE_DATABASE
        if queue and _is_queue(app_label, model_name):
            return db == queue
        if queue and db == queue and queue not in _shared_aliases():
            # A database of the queue's own holds the queue and nothing else:
            # not the app's other tables, nor the host's.
            return False
        if app_label in APP_LABELS and settings.DATABASE_USING:
            return db == settings.DATABASE_USING
        return None


def _is_queue(app_label, model_name):
    return (app_label, model_name) == QUEUE_MODEL


def _shared_aliases():
    """Return the aliases that hold more than the queue when it shares them."""
    return {DEFAULT_DB_ALIAS, settings.DATABASE_USING}
