"""
Real processes for the digest's integration tests: an ingest server under
gunicorn, ``manage.py sentry_worker``, a Celery worker, and a client that
posts envelopes to them. Every process binds 127.0.0.1, runs in its own
process group (so it can be killed whole, SIGKILL included) and stops by
itself after ``LIFETIME`` seconds whatever happens to the test.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from django.db import connection, connections

ROOT = Path(__file__).resolve().parent.parent
LIFETIME = 120


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(queue_alias=None, **extra):
    """
    The environment of :mod:`benchmarks.server` on the test database.

    ``queue_alias``: the test database the queue gets to itself
    (``SENTRY_QUEUE_DATABASE``); none by default.
    """
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "benchmarks.server.settings",
        "SENTRY_SERVER_DB": database_url(connection),
    }
    if queue_alias:
        env["SENTRY_SERVER_QUEUE_DB"] = database_url(connections[queue_alias])
    env.update(extra)
    return env


def database_url(database):
    """Return a connection's database as :mod:`benchmarks.server` names it."""
    kind = "postgresql" if database.vendor == "postgresql" else "sqlite"
    return f"{kind}:{database.settings_dict['NAME']}"


class Process:
    """A command in a process group of its own, ended by ``timeout`` anyway."""

    def __init__(self, args, env):
        self.args = args
        # A file, not a pipe: a pipe nobody reads could fill and block it.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.popen = subprocess.Popen(
            ["timeout", "-s", "KILL", str(LIFETIME), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )

    def kill(self, sig=signal.SIGKILL):
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def close(self):
        self.kill()
        self.log.close()

    def stderr(self):
        try:
            self.log.seek(0)
            return self.log.read().decode(errors="replace")[-3000:]
        except Exception:
            return ""


def start_server(port, env):
    process = Process(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "benchmarks.server.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        env,
    )
    return listening(process, port)


def listening(process, port, timeout=30):
    """Return server ``process`` once it accepts on ``port``; fail if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            if process.popen.poll() is not None:
                raise RuntimeError(f"the server died: {process.stderr()}") from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server did not start: {process.stderr()}")


def start_worker(env):
    return Process(
        [sys.executable, "-m", "django", "sentry_worker", "--interval", "0.1"], env
    )


def start_celery_worker(env, queue):
    return Process(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "benchmarks.server.celery",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            # A node name of its own: two runs on one broker (developers in
            # parallel) must not fight over the same control queue.
            "--hostname",
            f"sentry-test-{os.getpid()}-{uuid.uuid4().hex[:8]}@%h",
            "--loglevel",
            "WARNING",
        ],
        env,
    )


def envelope(server_name="web-1", message="order failed"):
    event_id = uuid.uuid4().hex
    payload = json.dumps(
        {
            "event_id": event_id,
            "level": "error",
            "message": message,
            "server_name": server_name,
            "platform": "python",
        }
    ).encode()
    item = json.dumps({"type": "event", "length": len(payload)}).encode()
    header = json.dumps({"event_id": event_id}).encode()
    return event_id, header + b"\n" + item + b"\n" + payload + b"\n"


def post(port, key, body, timeout=5):
    """POST an envelope; return the status (None when the server is gone)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(
            "POST",
            f"/sentry/api/{key.project_id}/envelope/",
            body,
            {
                "Content-Type": "application/x-sentry-envelope",
                "X-Sentry-Auth": (
                    f"Sentry sentry_key={key.public_key}, sentry_version=7"
                ),
            },
        )
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        # Also when the server died mid-request: no socket left to the GC.
        conn.close()


class Load:
    """Threads that post envelopes until stopped; keep the ids answered 200."""

    def __init__(self, key, threads=4):
        self.key = key
        self.port = None
        self.accepted = []
        self.failed = 0
        self.running = True
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True)
            for n in range(threads)
        ]

    def start(self, port):
        self.port = port
        for thread in self.threads:
            thread.start()

    def _run(self, n):
        count = 0
        while self.running:
            count += 1
            event_id, body = envelope(
                server_name=f"web-{n}", message=f"kind {count % 5}"
            )
            status = post(self.port, self.key, body, timeout=2)
            with self.lock:
                if status == 200:
                    self.accepted.append(event_id)
                else:
                    self.failed += 1
            if status is None:
                time.sleep(0.02)

    def stop(self):
        self.running = False
        for thread in self.threads:
            thread.join(10)


def wait_for(condition, timeout=60, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
