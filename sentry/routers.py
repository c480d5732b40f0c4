"""Database router for ``SENTRY_DATABASE_USING``."""

from .conf import settings

APP_LABELS = frozenset({"sentry"})


class SentryRouter:
    """
    Keep the app's tables in the ``SENTRY_DATABASE_USING`` database.

    Add ``"sentry.routers.SentryRouter"`` to ``DATABASE_ROUTERS`` when that
    setting names another database.
    """

    def _alias(self, model):
        if model._meta.app_label in APP_LABELS:
            return settings.DATABASE_USING
        return None

    def db_for_read(self, model, **hints):
        return self._alias(model)

    def db_for_write(self, model, **hints):
        return self._alias(model)

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label in APP_LABELS and settings.DATABASE_USING:
            return db == settings.DATABASE_USING
        return None
