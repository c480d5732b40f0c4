"""
The digest in real processes: killed mid-load, and distributed with Celery.

A gunicorn server (:mod:`benchmarks.server`) on 127.0.0.1 accepts events
posted by client threads; a separate worker digests them. Both run against
the test database (SQLite file or PostgreSQL) and are killed whatever
happens (:mod:`tests.processes`).
"""

import os
import socket
import time
import uuid
from urllib.parse import urlsplit

import pytest
from django.db.models import Sum
from django.test import override_settings

from sentry.models import (
    GroupedMessage,
    Message,
    MessageCountByMinute,
    MessageFilterValue,
    QueuedEvent,
)
from sentry.queue import DigestedEvent
from tests.ingest_factories import make_key
from tests.processes import (
    Load,
    envelope,
    free_port,
    post,
    server_env,
    start_celery_worker,
    start_server,
    start_worker,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def assert_counts_are_exact(accepted):
    """Every id answered 200 is stored once, and every counter adds up."""
    stored = set(
        Message.objects.filter(message_id__in=accepted).values_list(
            "message_id", flat=True
        )
    )
    assert stored == set(accepted)
    # Events whose answer was lost to the kill may be stored too: each once.
    total = Message.objects.count()
    assert total >= len(accepted)
    assert GroupedMessage.objects.aggregate(n=Sum("times_seen"))["n"] == total
    assert MessageCountByMinute.objects.aggregate(n=Sum("times_seen"))["n"] == total
    servers = MessageFilterValue.objects.filter(key="server_name")
    assert servers.aggregate(n=Sum("times_seen"))["n"] == total
    assert not QueuedEvent.objects.filter(failed=True).exists()


#: The queue in the main database, and in a database of its own
#: (``SENTRY_QUEUE_DATABASE``), where exactly once rests on DigestedEvent.
QUEUES = {
    "shared": {},
    "apart": {
        "SENTRY_QUEUE_DATABASE": "queue",
        "DATABASE_ROUTERS": ["sentry.routers.SentryRouter"],
    },
}


@pytest.mark.django_db(transaction=True, databases=["default", "queue"])
@pytest.mark.parametrize("queue_at", sorted(QUEUES))
def test_killed_web_and_worker_lose_no_accepted_event_and_count_none_twice(queue_at):
    with override_settings(**QUEUES[queue_at]):
        killed_web_and_worker(queue_alias="queue" if queue_at == "apart" else None)


def killed_web_and_worker(queue_alias):
    key = make_key(project_id=1)
    # A dead digest's batch waits for its lease on PostgreSQL: keep it short.
    env = server_env(
        queue_alias,
        SENTRY_SERVER_DIGEST="embedded",
        SENTRY_SERVER_DIGEST_LEASE="2",
    )
    load = Load(key)
    processes = []
    try:
        port = free_port()
        processes += [start_server(port, env), start_worker(env)]
        load.start(port)
        assert wait_for(lambda: Message.objects.count() > 50, timeout=30)
        # In the middle of the load, both digesting: no warning, no cleanup.
        for process in processes:
            process.kill()
            process.log.close()
        killed_at = len(load.accepted)
        time.sleep(0.3)

        processes = [start_server(port, env), start_worker(env)]
        assert wait_for(lambda: len(load.accepted) > killed_at + 50, timeout=30)
        load.stop()
        assert wait_for(lambda: not QueuedEvent.objects.exists(), timeout=60)
        # The digested ids are forgotten once their queue rows are gone.
        assert wait_for(lambda: not DigestedEvent.objects.exists(), timeout=10)
    finally:
        load.stop()
        for process in processes:
            process.close()

    assert load.accepted
    assert_counts_are_exact(load.accepted)
    if queue_alias:
        # Accepted into the queue's database only.
        assert not QueuedEvent.objects.using("default").exists()


def broker_reachable(url):
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=1).close()
        return True
    except OSError:
        return False


BROKERS = {
    "redis": "redis://127.0.0.1:6379/15",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
}


@pytest.mark.parametrize("broker", sorted(BROKERS))
def test_a_celery_worker_digests_events_posted_to_a_live_server(broker):
    url = BROKERS[broker]
    if not broker_reachable(url):
        if os.environ.get("CI"):
            pytest.fail(f"{broker} is not reachable at {url}")
        pytest.skip(f"{broker} is not reachable at {url}")
    key = make_key(project_id=1)
    # A queue of this run's own: other runs on the same broker never steal.
    queue = f"sentry-test-{uuid.uuid4().hex[:12]}"
    env = server_env(
        SENTRY_SERVER_DIGEST="celery",
        SENTRY_SERVER_CELERY_BROKER=url,
        SENTRY_SERVER_CELERY_QUEUE=queue,
    )
    processes = []
    try:
        port = free_port()
        processes.append(start_server(port, env))
        ids = []
        for n in range(30):
            event_id, body = envelope(server_name=f"web-{n % 3}", message=f"k{n % 4}")
            assert post(port, key, body) == 200
            ids.append(event_id)
        # Queued, durable, waiting: no worker yet.
        assert QueuedEvent.objects.count() == 30
        processes.append(start_celery_worker(env, queue))
        stored = wait_for(lambda: Message.objects.count() == 30, timeout=60)
        assert stored, processes[-1].stderr()
        # More while the worker runs: digested as they come.
        for n in range(10):
            event_id, body = envelope(message=f"k{n % 4}")
            assert post(port, key, body) == 200
            ids.append(event_id)
        assert wait_for(lambda: Message.objects.count() == 40, timeout=60)
    finally:
        for process in processes:
            process.close()

    assert_counts_are_exact(ids)
    assert GroupedMessage.objects.count() == 4
