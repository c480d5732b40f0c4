"""Plain factory functions for the ingest tests: keys, events, envelopes."""

import gzip
import json
import time
import uuid
import zlib

import brotli

from sentry.models import Project, ProjectKey
from sentry.utils import wire

SDK_AUTH = (
    "Sentry sentry_key={key}, sentry_version=7, sentry_client=sentry.python/2.75.0"
)


def make_project(project_id, **fields):
    """Return project ``project_id``, made (named "Project <id>") if missing."""
    fields.setdefault("name", f"Project {project_id}")
    fields.setdefault("slug", f"project-{project_id}")
    return Project.objects.get_or_create(pk=project_id, defaults=fields)[0]


def make_key(**fields):
    fields.setdefault("label", "shop")
    fields.setdefault("project_id", 42)
    make_project(fields["project_id"])
    return ProjectKey.objects.create(**fields)


def new_event_id():
    return uuid.uuid4().hex


def exception_event(event_id=None, **fields):
    """An event like sentry-sdk's capture_exception of a chained exception."""
    event = {
        "event_id": event_id or new_event_id(),
        "level": "error",
        "platform": "python",
        "timestamp": time.time(),
        "exception": {
            "values": [
                {
                    "type": "ZeroDivisionError",
                    "value": "division by zero",
                    "module": None,
                    "mechanism": {"type": "generic", "handled": True},
                    "stacktrace": {
                        "frames": [
                            frame("handler", 26, "        divide(len(items), 0)"),
                            frame("divide", 20, "    ratio = a / b", a="3", b="0"),
                        ]
                    },
                },
                {
                    "type": "ValueError",
                    "value": "could not compute ratio",
                    "module": None,
                    "mechanism": {"type": "generic", "handled": True},
                    "stacktrace": {
                        "frames": [
                            frame("<module>", 31, "    handler()"),
                            frame(
                                "handler",
                                28,
                                '        raise ValueError("could not compute ratio")'
                                " from e",
                            ),
                        ]
                    },
                },
            ]
        },
        "tags": {"tenant": "acme"},
        "user": {"id": "u-7", "email": "jane@example.com", "username": "jane"},
        "release": "myapp@1.2.3",
        "environment": "staging",
        "server_name": "web-01",
        "extra": {"retry": 3},
        "breadcrumbs": {
            "values": [
                {"category": "auth", "message": "user logged in", "level": "info"}
            ]
        },
        "contexts": {"order": {"id": 991, "total": 12.5}},
        "sdk": {"name": "sentry.python", "version": "2.75.0"},
    }
    event.update(fields)
    return event


def frame(function, lineno, context_line, **local_vars):
    return {
        "filename": "orders.py",
        "abs_path": "/srv/app/orders.py",
        "function": function,
        "module": "orders",
        "lineno": lineno,
        "pre_context": ["    try:"],
        "context_line": context_line,
        "post_context": [""],
        "vars": local_vars,
        "in_app": True,
    }


def message_event(message="Payment gateway timed out", **fields):
    event = {
        "event_id": new_event_id(),
        "message": message,
        "level": "warning",
        "timestamp": "2026-11-26T04:02:24.583689Z",
        "platform": "python",
        "server_name": "web-01",
    }
    event.update(fields)
    return event


def envelope(*items, **headers):
    """Return envelope bytes; ``items`` are ``(type, payload)`` pairs."""
    lines = [json.dumps(headers).encode()]
    for item_type, payload in items:
        if not isinstance(payload, bytes):
            payload = json.dumps(payload).encode()
        lines.append(json.dumps({"type": item_type, "length": len(payload)}).encode())
        lines.append(payload)
    return b"\n".join(lines) + b"\n"


def event_envelope(event, **headers):
    headers.setdefault("event_id", event.get("event_id"))
    return envelope(("event", event), **headers)


def compress(body, encoding):
    if encoding == "gzip":
        return gzip.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    if encoding == "br":
        return brotli.compress(body)
    return body


def post_envelope(client, body, key=None, project_id=42, encoding=None, **extra):
    headers = dict(extra)
    if key is not None:
        headers["HTTP_X_SENTRY_AUTH"] = SDK_AUTH.format(key=key.public_key)
    if encoding:
        headers["HTTP_CONTENT_ENCODING"] = encoding
        body = compress(body, encoding)
    return client.post(
        f"/sentry/api/{project_id}/envelope/",
        body,
        content_type="application/x-sentry-envelope",
        **headers,
    )


def post_events(client, key, events):
    """POST each event in an envelope of its own; each must be accepted."""
    for event in events:
        response = post_envelope(client, event_envelope(event), key)
        assert response.status_code == 200, response.content
        assert response.json() == {"id": event["event_id"]}


def post_store(client, body, key=None, project_id=42, **extra):
    headers = dict(extra)
    if key is not None:
        headers["HTTP_X_SENTRY_AUTH"] = SDK_AUTH.format(key=key.public_key)
    return client.post(
        f"/sentry/api/{project_id}/store/",
        body,
        content_type=headers.pop("content_type", "application/json"),
        **headers,
    )


def signed_remote_request(client, event, key="shared-secret", timestamp=None, **extra):
    """POST an event to ``store/`` as the remote client does."""
    body = extra.pop("body", None)
    if body is None:
        body = wire.encode_event(event)
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "HTTP_CONTENT_ENCODING": "deflate",
        "HTTP_X_SENTRY_TIMESTAMP": str(timestamp),
        "HTTP_X_SENTRY_SIGNATURE": wire.sign(key, timestamp, body),
    }
    headers.update(extra)
    return client.post(
        "/sentry/store/",
        body,
        content_type=headers.pop("content_type", "application/json"),
        **headers,
    )
