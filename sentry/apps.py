import atexit

from django.apps import AppConfig


class SentryConfig(AppConfig):
    name = "sentry"
    label = "sentry"
    verbose_name = "Sentry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core.signals import request_finished
        from django.db.backends.signals import connection_created
        from django.db.models.signals import (
            post_delete,
            post_migrate,
            post_save,
            pre_migrate,
        )

        from . import checks  # noqa: F401  (registers the system checks)
        from .db import (
            flush_deferred,
            reclaimable_queue_connection,
            secure_queue_connection,
        )
        from .models import Project
        from .occurrences import drop_trigger as drop_occurrence_trigger
        from .occurrences import ensure_trigger as ensure_occurrence_trigger
        from .projects import ensure_default_project, forget_projects
        from .search.index import ensure_trigger

        # Errors recorded inside a broken transaction wait for its end.
        request_finished.connect(flush_deferred, dispatch_uid="sentry.flush_deferred")
        atexit.register(flush_deferred)
        # Raw queue payloads are zeroed when freed (SQLite).
        connection_created.connect(
            secure_queue_connection, dispatch_uid="sentry.secure_queue_connection"
        )
        # ... and a new SQLite database gives the pages they took back.
        connection_created.connect(
            reclaimable_queue_connection,
            dispatch_uid="sentry.reclaimable_queue_connection",
        )
        # Project 1, the site's own, is there after every migrate (and
        # after a flush, which empties the tables the migrations filled).
        post_migrate.connect(
            ensure_default_project,
            sender=self,
            dispatch_uid="sentry.ensure_default_project",
        )
        # SQLite drops a table's triggers when a migration alters it: the
        # search index's is made again after every migrate.
        post_migrate.connect(
            ensure_trigger, sender=self, dispatch_uid="sentry.search_trigger"
        )
        # ... and the occurrence table's, which deletes occurrences' values
        # (dropped before migrating: a remade links table would trip on it).
        pre_migrate.connect(
            drop_occurrence_trigger,
            sender=self,
            dispatch_uid="sentry.occurrence_trigger_drop",
        )
        post_migrate.connect(
            ensure_occurrence_trigger,
            sender=self,
            dispatch_uid="sentry.occurrence_trigger",
        )
        # A renamed or deleted project is noticed at once in this process.
        for signal in (post_save, post_delete):
            signal.connect(
                forget_projects, sender=Project, dispatch_uid="sentry.forget_projects"
            )
        # So are the alert channels and rules saved on the dashboard.
        from .alerts.store import connect_signals

        connect_signals()
