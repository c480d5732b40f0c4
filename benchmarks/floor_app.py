"""
The floor of :mod:`benchmarks.ingest_floor`: a bare WSGI callable that accepts
an envelope the way the app does, with nothing else.

It checks the key in ``X-Sentry-Auth``, reads the body, parses the envelope
header, the item header and the event (JSON), inserts the event into one
table in autocommit mode (one statement: a transaction of its own) and
answers ``{"id": ...}`` once that has returned. What the machine, the server
and the database cost per event, and so what no accept path can beat.

``FLOOR_DB`` names the database (``sqlite:/path``, WAL, or
``postgresql:NAME``, its ``floor_event`` table made by the benchmark);
``FLOOR_KEY`` the public key it accepts.
"""

import json
import os
import threading

DATABASE = os.environ.get("FLOOR_DB", "sqlite:/tmp/floor.sqlite3")
KEY = os.environ.get("FLOOR_KEY", "")

SCHEMA = {
    "sqlite": (
        "CREATE TABLE floor_event (id INTEGER PRIMARY KEY, "
        "event_id TEXT NOT NULL UNIQUE, payload BLOB NOT NULL)"
    ),
    "postgresql": (
        "CREATE TABLE floor_event (id BIGSERIAL PRIMARY KEY, "
        "event_id TEXT NOT NULL UNIQUE, payload BYTEA NOT NULL)"
    ),
}
INSERT = {
    "sqlite": (
        "INSERT INTO floor_event (event_id, payload) VALUES (?, ?) "
        "ON CONFLICT (event_id) DO NOTHING"
    ),
    "postgresql": (
        "INSERT INTO floor_event (event_id, payload) VALUES (%s, %s) "
        "ON CONFLICT (event_id) DO NOTHING"
    ),
}

_local = threading.local()


def connect(url):
    """Return ``(kind, connection)`` of ``sqlite:/path`` or ``postgresql:NAME``."""
    kind, _, name = url.partition(":")
    if kind == "postgresql":
        import psycopg

        return kind, psycopg.connect(
            f"host=127.0.0.1 port=5432 user=postgres dbname={name}", autocommit=True
        )
    import sqlite3

    connection = sqlite3.connect(name, timeout=20, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return kind, connection


def answer(start_response, status, data):
    body = json.dumps(data).encode()
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def application(environ, start_response):
    if f"sentry_key={KEY}," not in environ.get("HTTP_X_SENTRY_AUTH", "") + ",":
        return answer(start_response, "403 Forbidden", {"detail": "bad key"})
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    head, item_head, payload = body.split(b"\n", 2)
    header = json.loads(head)
    json.loads(item_head)
    event = json.loads(payload)
    event_id = header.get("event_id") or event["event_id"]
    if not hasattr(_local, "connection"):
        _local.kind, _local.connection = connect(DATABASE)
    _local.connection.execute(INSERT[_local.kind], (event_id, payload))
    return answer(start_response, "200 OK", {"id": event_id})
