"""A minimal site that ingests events: what the HTTP benchmark and tests serve."""

import os

if os.environ.get("SENTRY_SERVER_CELERY_BROKER"):
    # As in any Django project that uses Celery: the app is loaded with the
    # project, so that sending a task uses its broker.
    from .celery import app as celery_app  # noqa: F401
