"""Plain factory functions for the dashboard tests: groups, occurrences, events."""

import datetime as dt
import hashlib
import itertools
import uuid

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from sentry import pipeline
from sentry.models import (
    FilterValue,
    GroupedMessage,
    Message,
    MessageCountByMinute,
    MessageFilterValue,
    ProjectCountByHour,
    get_score,
)

_counter = itertools.count(1)

#: Strings that would run script if a page let them through unescaped.
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss=1">'


def make_group(message="Something broke", **fields):
    """Create a group directly (no occurrence); fields override the defaults."""
    now = timezone.now()
    last_seen = fields.pop("last_seen", now)
    times_seen = fields.pop("times_seen", 1)
    values = {
        "logger": "root",
        "level": 40,
        "view": "",
        "checksum": hashlib.md5(str(next(_counter)).encode()).hexdigest(),
        "first_seen": fields.pop("first_seen", last_seen),
        "score": get_score(times_seen, last_seen),
        **fields,
    }
    return GroupedMessage.objects.create(
        message=message, last_seen=last_seen, times_seen=times_seen, **values
    )


def make_message(group, when=None, data=None, **fields):
    """Create an occurrence of ``group`` directly."""
    values = {
        "message_id": uuid.uuid4().hex,
        "logger": group.logger,
        "class_name": group.class_name,
        "level": group.level,
        "message": group.message,
        "view": group.view,
        "checksum": group.checksum,
        "server_name": "web-1",
        "datetime": when or timezone.now(),
        "data": data if data is not None else {},
        **fields,
    }
    return Message.objects.create(group=group, **values)


def count_minute(group, when, times_seen=1):
    """Add ``times_seen`` to the group's minute and its project's hour at ``when``."""
    minute = when.replace(second=0, microsecond=0)
    row, _ = MessageCountByMinute.objects.get_or_create(
        group=group, date=minute, defaults={"times_seen": 0}
    )
    row.times_seen += times_seen
    row.save()
    hour, _ = ProjectCountByHour.objects.get_or_create(
        project_id=group.project_id,
        date=minute.replace(minute=0),
        defaults={"times_seen": 0},
    )
    hour.times_seen += times_seen
    hour.save()


def seen_with(group, key, value):
    """Record that ``group`` was seen with ``key=value`` (and offer the choice)."""
    now = timezone.now()
    FilterValue.objects.get_or_create(project_id=group.project_id, key=key, value=value)
    MessageFilterValue.objects.create(
        group=group, key=key, value=value, times_seen=1, first_seen=now, last_seen=now
    )


def record_event(message="Something broke", data=None, **fields):
    """Store an event through the pipeline, as the ingest endpoints will."""
    event = {"message": message, "data": data or {}, **fields}
    # The data is builtins already, as the ingest endpoints will shape it.
    message_id = pipeline.record(pipeline.prepare(event, shaped=True))
    return Message.objects.get(message_id=message_id)


def sdk_event_data():
    """Return ``data`` shaped like an event sent by sentry-sdk (chained, rich)."""
    frame = {
        "filename": "orders.py",
        "abs_path": "/srv/app/orders.py",
        "module": "orders",
        "function": "handler",
        "lineno": 26,
        "pre_context": ["def handler(items):", "    try:"],
        "context_line": "        divide(len(items), 0)",
        "post_context": ["    except ZeroDivisionError as e:"],
        "vars": {"items": ["1", "2", "3"], "topping": "'ketchup'"},
        "in_app": True,
    }
    library = {
        "filename": "django/core/handlers/base.py",
        "abs_path": "/usr/lib/python3/site-packages/django/core/handlers/base.py",
        "module": "django.core.handlers.base",
        "function": "_get_response",
        "lineno": 197,
        "context_line": "response = wrapped_callback(request, *args, **kwargs)",
        "pre_context": [],
        "post_context": [],
        "in_app": False,
        "vars": {"request": "<WSGIRequest: GET '/orders/'>"},
    }
    return {
        "exception": {
            "values": [
                {
                    "type": "ZeroDivisionError",
                    "value": "division by zero",
                    "module": None,
                    "mechanism": {"type": "generic", "handled": True},
                    "stacktrace": {"frames": [frame]},
                },
                {
                    "type": "ValueError",
                    "value": "could not compute ratio",
                    "module": None,
                    "mechanism": {"type": "django", "handled": False},
                    "stacktrace": {"frames": [library, frame]},
                },
            ]
        },
        "request": {
            "url": "https://shop.example.com/orders/?page=2",
            "method": "POST",
            "query_string": "page=2",
            "data": {"quantity": "3"},
            "headers": [["Host", "shop.example.com"], ["User-Agent", "curl/8.0"]],
            "cookies": "theme=dark",
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "user": {"id": "u-7", "email": "jane@example.com", "username": "jane"},
        "tags": {"tenant": "acme"},
        "contexts": {
            "runtime": {"name": "CPython", "version": "3.11.7"},
            "order": {"id": 991, "total": 12.5},
        },
        "breadcrumbs": {
            "values": [
                {
                    "category": "auth",
                    "message": "user logged in",
                    "level": "info",
                    "timestamp": "2026-11-26T04:02:24.577933Z",
                    "type": "default",
                },
                {
                    "type": "log",
                    "level": "warning",
                    "category": "myapp.orders",
                    "message": "stock low for SKU-1",
                    "timestamp": 1795000000.5,
                    "data": {"sku": "SKU-1"},
                },
            ]
        },
        "extra": {"retry": 3, "sys.argv": ["manage.py"]},
        "release": "myapp@1.2.3",
        "environment": "staging",
        "sdk": {"name": "sentry.python", "version": "2.75.0"},
        "platform": "python",
        "fingerprint": ["{{ default }}", "orders"],
    }


def hostile_event_data():
    """Return ``data`` with script payloads in every place a page shows."""
    return {
        "exception": {
            "values": [
                {
                    "type": XSS,
                    "value": XSS,
                    "module": XSS,
                    "mechanism": {"type": XSS, "handled": False},
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": XSS,
                                "abs_path": XSS,
                                "module": XSS,
                                "function": XSS,
                                "lineno": 3,
                                "pre_context": [XSS],
                                "context_line": XSS,
                                "post_context": [XSS],
                                "in_app": True,
                                "vars": {XSS: XSS, "nested": {XSS: [XSS]}},
                            }
                        ]
                    },
                }
            ]
        },
        "request": {
            "url": "javascript:window.__xss=1",
            "method": XSS,
            "query_string": XSS,
            "GET": {XSS: XSS},
            "headers": {XSS: XSS, "Referer": "javascript:window.__xss=1"},
            "cookies": {XSS: XSS},
            "data": XSS,
        },
        "user": {"username": XSS, "email": XSS},
        "tags": {XSS: XSS},
        "contexts": {XSS: {XSS: XSS}},
        "breadcrumbs": [{"message": XSS, "category": XSS, "data": {XSS: XSS}}],
        "extra": {XSS: XSS},
        "release": XSS,
        "environment": XSS,
        "sdk": {"name": XSS},
        "platform": XSS,
        "fingerprint": [XSS],
        XSS: XSS,
    }


def staff_client(username="staff", **fields):
    """Return a test client logged in as an active staff user."""
    user = get_user_model().objects.create_user(
        username, password="pw", is_staff=True, **fields
    )
    browser = Client()
    browser.force_login(user)
    return browser


def member_client(username="member"):
    """Return a test client logged in as a user who is not staff."""
    user = get_user_model().objects.create_user(username, password="pw")
    browser = Client()
    browser.force_login(user)
    return browser


def minutes_ago(minutes):
    return timezone.now() - dt.timedelta(minutes=minutes)
