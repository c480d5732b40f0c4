"""The Celery app of the ingest server: ``celery -A benchmarks.server worker``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.server.settings")

app = Celery("sentry_server")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["sentry"])
