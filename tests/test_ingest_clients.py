"""
Real clients against a live server: sentry-sdk, raven and the remote client.

The clients run in subprocesses (:mod:`tests.ingest_clients`). sentry-sdk and
raven report to the app as it is deployed, gunicorn on 127.0.0.1
(:func:`~tests.sdk_server.ingest_server`); the tests then read what was
stored. django-sentry's own remote client reports to pytest-django's live
server instead: its tests change the receiving site's ``SENTRY_KEY``, which
only a server in the test's process sees.
"""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import raven
import sentry_sdk
from django.db import connection
from django.test import override_settings

from sentry.models import GroupedMessage, Message
from tests.ingest_factories import make_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
REMOTE_KEY = "a-long-shared-secret-for-the-tests"


def run_client(*args, env=None, expect_ok=True):
    """Run ``python -m tests.ingest_clients *args``; return (output, stderr)."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.ingest_clients", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if expect_ok:
        assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    return (json.loads(lines[-1]) if lines else None), result.stderr


@pytest.fixture
def key():
    return make_key(label="myapp")


@pytest.fixture
def backdated():
    """A moment three hours ago, which the clients date their events."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=3)


# --- sentry-sdk ---------------------------------------------------------------


@pytest.mark.parametrize("compression", ["gzip", "br", "none"])
def test_sentry_sdk_events_are_stored_and_grouped(
    ingest_server, key, backdated, compression
):
    ids, _ = run_client(
        "sdk", ingest_server.dsn(key), compression, backdated.isoformat()
    )

    stored = {m.message_id: m for m in ingest_server.stored(count=6)}
    assert set(stored) == set(ids.values())

    exception = stored[ids["exception0"]]
    assert exception.class_name == "ValueError"
    assert exception.message == "ValueError: could not compute ratio"
    assert exception.level == 40
    # sentry-sdk names no logger for an exception: none is made up.
    assert exception.logger == ""
    assert exception.site == "myapp"
    assert exception.server_name == "web-01"
    assert exception.datetime == backdated
    assert exception.view == "__main__.handler"
    # The cause chain, oldest first, joined as Python prints it.
    traceback = exception.traceback
    assert traceback.index("ZeroDivisionError: division by zero") < traceback.index(
        "The above exception was the direct cause of the following exception"
    )
    assert "ratio = a / b" in traceback
    assert traceback.endswith("ValueError: could not compute ratio")
    values = exception.data["exception"]["values"]
    assert [(v["type"], v["value"]) for v in values] == [
        ("ZeroDivisionError", "division by zero"),
        ("ValueError", "could not compute ratio"),
    ]
    divide_frame = values[0]["stacktrace"]["frames"][-1]
    assert divide_frame["function"] == "divide"
    assert divide_frame["vars"]["b"] == "0"
    data = exception.data
    assert data["tags"] == {
        "tenant": "acme",
        "environment": "staging",
        "release": "myapp@1.2.3",
    }
    assert data["user"] == {
        "id": "u-7",
        "email": "jane@example.com",
        "username": "jane",
    }
    [breadcrumb] = data["breadcrumbs"]["values"]
    assert (breadcrumb["category"], breadcrumb["message"], breadcrumb["level"]) == (
        "auth",
        "user logged in",
        "info",
    )
    assert (data["release"], data["environment"]) == ("myapp@1.2.3", "staging")
    assert data["contexts"]["order"] == {"id": 991, "total": 12.5}
    assert (data["sdk"]["name"], data["sdk"]["version"]) == (
        "sentry.python",
        sentry_sdk.VERSION,
    )

    # The same exception twice is one group seen twice.
    assert exception.group_id == stored[ids["exception1"]].group_id
    assert exception.group.times_seen == 2

    message = stored[ids["message"]]
    assert (message.message, message.level, message.class_name) == (
        "Payment gateway timed out",
        30,
        None,
    )
    assert message.traceback is None
    assert (message.site, message.server_name) == ("myapp", "web-01")
    assert message.datetime == backdated
    assert message.data["tags"] == data["tags"]
    assert message.data["user"] == data["user"]
    assert message.data["breadcrumbs"] == data["breadcrumbs"]

    first, second = stored[ids["log1234"]], stored[ids["log5678"]]
    assert first.message == "order 1234 failed"
    assert second.message == "order 5678 failed"
    assert first.logger == "myapp.orders"
    assert first.group_id == second.group_id

    fingerprinted = stored[ids["fingerprinted"]]
    assert fingerprinted.group_id not in {
        exception.group_id,
        message.group_id,
        first.group_id,
    }
    assert GroupedMessage.objects.count() == 4


def test_sentry_sdks_django_integration_is_stored_with_its_request(ingest_server, key):
    output, _ = run_client("sdk-django", ingest_server.dsn(key))

    assert output["status"] == 500
    [message] = ingest_server.stored(message_id=output["event"])
    assert message.class_name == "KeyError"
    assert message.view == "/orders/{order_id}/checkout/"
    assert message.server_name == "web-02"
    # Under Django's test client the SDK sends the body, not the URL (which
    # its WSGI middleware would add).
    request = message.data["request"]
    assert request["data"] == {"password": "********", "qty": "1"}
    last = message.data["exception"]["values"][-1]
    assert last["mechanism"]["type"] == "django"
    assert last["mechanism"]["handled"] is False
    assert message.data["sdk"]["name"] == "sentry.python.django"


# --- raven --------------------------------------------------------------------


def test_the_legacy_raven_client_reports_to_the_store_endpoint(
    ingest_server, key, backdated
):
    ids, _ = run_client("raven", ingest_server.dsn(key), backdated.isoformat())

    stored = {m.message_id: m for m in ingest_server.stored(count=2)}
    assert set(stored) == set(ids.values())
    exception = stored[ids["exception"]]
    assert exception.class_name == "ValueError"
    assert exception.message == "ValueError: could not compute ratio"
    # raven names no logger either: none is made up.
    assert (exception.level, exception.logger) == (40, "")
    assert (exception.site, exception.server_name) == ("myapp", "raven-host")
    assert exception.datetime == backdated
    assert exception.view == "__main__.handler"
    values = exception.data["exception"]["values"]
    assert [(v["type"], v["value"]) for v in values] == [
        ("ZeroDivisionError", "division by zero"),
        ("ValueError", "could not compute ratio"),
    ]
    # raven does not say how the two are linked: neither of Python's lines.
    traceback = exception.traceback
    assert traceback.index("ZeroDivisionError: division by zero") < traceback.index(
        "The following exception is linked to the one above:"
    )
    assert "During handling" not in traceback
    assert "in divide\n    ratio = a / b" in traceback
    data = exception.data
    assert data["tags"] == {
        "tenant": "acme",
        "environment": "production",
        "release": "2.0",
    }
    assert data["user"] == {"id": "u-9", "username": "sam"}
    breadcrumb = data["breadcrumbs"]["values"][0]
    assert (breadcrumb["category"], breadcrumb["message"], breadcrumb["level"]) == (
        "cron",
        "export started",
        "info",
    )
    assert (data["release"], data["environment"]) == ("2.0", "production")
    assert data["sdk"] == {"name": "raven-python", "version": raven.VERSION}

    message = stored[ids["message"]]
    assert (message.message, message.level, message.class_name) == (
        "Disk almost full",
        30,
        None,
    )
    assert (message.site, message.server_name) == ("myapp", "raven-host")
    assert message.datetime == backdated
    assert message.data["tags"] == data["tags"]
    assert message.data["user"] == data["user"]
    # raven records its own request (the exception's) as a breadcrumb too.
    assert message.data["breadcrumbs"]["values"][0] == breadcrumb


# --- the classic remote client ------------------------------------------------


def remote_env(url, **extra):
    return {"TEST_REMOTE_URL": url, "TEST_REMOTE_KEY": REMOTE_KEY, **extra}


@override_settings(SENTRY_KEY=REMOTE_KEY)
def test_a_client_only_site_reports_to_the_central_server(live_server):
    output, stderr = run_client(
        "remote", env=remote_env(f"{live_server.url}/sentry/store/")
    )

    assert output["client"] == "RemoteSentryClient"
    assert "SENTRY-ERROR" not in stderr
    ids = output["ids"]
    exception = Message.objects.get(message_id=ids["exception"])
    assert exception.class_name == "ValueError"
    assert exception.server_name == "remote-client"
    assert exception.site == "reporting-site"
    frames = exception.data["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames[-1]["function"] == "handler"
    assert Message.objects.get(message_id=ids["text"]).level == 30
    logged = Message.objects.get(logger="shop.payments")
    assert logged.message == "payment 77 refused"
    assert logged.data["extra"]["card"] == "********"


def test_with_the_server_down_the_caller_is_unharmed_and_events_are_logged():
    # Nothing listens on port 9 of the loopback (discard): connections fail.
    output, stderr = run_client(
        "remote",
        env=remote_env("http://127.0.0.1:9/sentry/store/", TEST_REMOTE_TIMEOUT="1"),
    )

    assert len(output["ids"]) == 2
    assert all(len(i) == 32 for i in output["ids"].values())
    assert output["elapsed"] < 2
    lost = [line for line in stderr.splitlines() if line.startswith("SENTRY-ERROR")]
    assert len(lost) == 3
    assert all("could not be reached" in line for line in lost)
    assert output["ids"]["exception"] in stderr
    assert "Nightly export skipped" in stderr


def test_a_wrong_key_is_refused_and_logged_by_the_client(live_server):
    with override_settings(SENTRY_KEY="another-key"):
        output, stderr = run_client(
            "remote", env=remote_env(f"{live_server.url}/sentry/store/")
        )

    assert Message.objects.count() == 0
    assert "answered 403: bad signature" in stderr
    assert output["ids"]["text"] in stderr


def test_connection_vendor_is_known():
    # The live-server tests share the database file (SQLite) or server.
    assert connection.vendor in ("sqlite", "postgresql")
