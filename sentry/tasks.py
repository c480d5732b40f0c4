"""
The Celery task that digests the queue: ``SENTRY_DIGEST = "celery"``.

Needs Celery (``pip install django-sentry[celery]``) and a Celery app in the
project that loads tasks from installed apps (``app.autodiscover_tasks()``).
Web processes send the task after they queue events (at most every
``SENTRY_DIGEST_INTERVAL`` seconds each, and once after the last event); any
number of workers on any number of machines run it. Each run claims batches
(``SKIP LOCKED`` on PostgreSQL: workers never wait for each other) until the
queue is empty, or until ``SENTRY_DIGEST_TASK_TIME_LIMIT`` seconds have
passed, when it sends a new task for the rest. The queue is the database
table, not the broker: a lost task loses no event, the next one (or the
periodic one, see the documentation) digests it.
"""

import time

from celery import shared_task

from .conf import settings


@shared_task(name="sentry.digest", ignore_result=True)
def digest():
    """Digest queued events; hand on to a new task when time is up."""
    from django.db import connections

    from .drain import celery_options, drain_available, get_write_alias_for_queue
    from .queue import pending

    deadline = time.monotonic() + settings.DIGEST_TASK_TIME_LIMIT
    try:
        report = drain_available(
            blocking=True, timeout=settings.DIGEST_INTERVAL, deadline=deadline
        )
        if (
            report is not None
            and time.monotonic() >= deadline
            and pending(get_write_alias_for_queue())
        ):
            digest.apply_async(**celery_options())
    finally:
        connections.close_all()
