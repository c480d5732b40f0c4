"""
A live ingest server for the real-SDK tests (``tests/test_sdk_*.py``).

Each SDK reports to the app as it is deployed: gunicorn on 127.0.0.1 serving
:mod:`benchmarks.server` on the test database, started per test (its own
process group, stopped by itself after ``tests.processes.LIFETIME`` seconds).
Tests then read what was stored with the ORM, field by field.

Use the ``ingest_server`` fixture (registered in ``tests/conftest.py``)::

    def test_it(ingest_server):
        key = make_key(label="node-service")
        run_my_sdk(ingest_server.dsn(key))
        messages = ingest_server.stored(count=3)
"""

import os
import sys

import pytest

from sentry.digest import drain
from sentry.models import Message
from tests.processes import ROOT, Process, free_port, listening, server_env, wait_for


class IngestServer:
    """gunicorn serving ``sentry.urls`` at ``/sentry/`` on ``url``."""

    def __init__(self, port, process):
        self.port = port
        self.process = process
        self.url = f"http://127.0.0.1:{port}"

    def dsn(self, key, host="127.0.0.1"):
        """The DSN of ``key`` on this server (``host`` may be ``localhost``)."""
        return f"http://{key.public_key}@{host}:{self.port}/sentry/{key.project_id}"

    def stored(self, count=1, timeout=30, **filters):
        """
        Wait until ``count`` messages (matching ``filters``) are stored and
        return them, oldest first; fail with the server's log if they never
        are. Whatever the server queued but has not digested yet is digested
        here.
        """
        found = []

        def enough():
            drain(steal=True)
            found[:] = Message.objects.filter(**filters).order_by("id")
            return len(found) >= count

        if not wait_for(enough, timeout=timeout, interval=0.2):
            pytest.fail(
                f"{len(found)} of {count} events stored; server log:\n"
                + self.process.stderr()
            )
        return list(found)


def gunicorn_args(port):
    return [
        *(sys.executable, "-m", "gunicorn", "benchmarks.server.wsgi:application"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "1"),
        *("--worker-class", "gthread", "--threads", "4", "--log-level", "warning"),
    ]


@pytest.fixture
def ingest_server(transactional_db):
    port = free_port()
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    process = listening(Process(gunicorn_args(port), server_env(PYTHONPATH=path)), port)
    try:
        yield IngestServer(port, process)
    finally:
        process.close()
