"""
sentry-go, the Go SDK, against the app served by gunicorn.

Debian's ``golang-github-getsentry-sentry-go-dev`` is built in GOPATH mode
(nothing downloaded) into a program, ``tests/sdks/go/send``, that reports
to a live :func:`~tests.sdk_server.ingest_server`; the test then reads what
was stored. This sentry-go posts events as JSON to the store endpoint and
transactions as envelopes.
"""

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ingest_factories import make_key
from tests.processes import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GOCODE = Path("/usr/share/gocode")
SENTRY_GO = GOCODE / "src/github.com/getsentry/sentry-go"
PROGRAM = ROOT / "tests/sdks/go/send"


def go_env(tmp):
    """Return the environment of a GOPATH build that can download nothing."""
    return {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": os.pathsep.join([str(tmp / "gopath"), str(GOCODE)]),
        "GOPROXY": "off",
        "GOFLAGS": "",
        "GOCACHE": str(tmp / "gocache"),
    }


@pytest.fixture(scope="module")
def send(tmp_path_factory):
    """Build the program once per module; return its path."""
    go = shutil.which("go")
    if go is None or not SENTRY_GO.is_dir():
        pytest.fail("Go or Debian's sentry-go is missing: run `make sdks`")
    tmp = tmp_path_factory.mktemp("sdk-go")
    binary = tmp / "send"
    result = subprocess.run(
        [go, "build", "-o", str(binary), "."],
        cwd=PROGRAM,
        env=go_env(tmp),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        pytest.fail(f"go build failed (run `make sdks`?):\n{result.stderr}")
    return binary


def run(send, dsn, timestamp):
    result = subprocess.run(
        [send, dsn, timestamp.isoformat()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_sentry_go_events_are_stored_field_by_field(send, ingest_server):
    key = make_key(label="checkout-service")
    backdated = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=3)

    output = run(send, ingest_server.dsn(key), backdated)

    stored = {m.message_id: m for m in ingest_server.stored(count=2)}
    assert set(stored) == set(output["ids"].values())
    exception = stored[output["ids"]["exception"]]
    assert exception.class_name == "*fmt.wrapError"
    assert exception.message == (
        "*fmt.wrapError: save order 1234: write row 1234: disk full"
    )
    assert exception.level == 40
    # sentry-go names no logger: none is made up.
    assert exception.logger == ""
    assert exception.site == "checkout-service"
    assert exception.server_name == "go-web-01"
    assert exception.datetime == backdated
    # The transaction the error happened in is its culprit.
    assert exception.view == "POST /orders"
    # The cause chain, oldest first; only the newest error has a stack.
    values = exception.data["exception"]["values"]
    assert [(v["type"], v["value"]) for v in values] == [
        ("*errors.errorString", "disk full"),
        ("*fmt.wrapError", "write row 1234: disk full"),
        ("*fmt.wrapError", "save order 1234: write row 1234: disk full"),
    ]
    assert [bool(v.get("stacktrace")) for v in values] == [False, False, True]
    frame = values[-1]["stacktrace"]["frames"][-1]
    assert (frame["module"], frame["function"]) == ("main", "main")
    assert frame["in_app"] is True
    assert "hub.CaptureException(saveOrder(1234))" in frame["context_line"]
    traceback = exception.traceback
    assert traceback.index("*errors.errorString: disk full") < traceback.index(
        "*fmt.wrapError: write row 1234: disk full"
    )
    assert 'main.go", line' in traceback
    assert traceback.endswith(
        "*fmt.wrapError: save order 1234: write row 1234: disk full"
    )
    data = exception.data
    assert data["tags"] == {
        "tenant": "acme",
        "environment": "staging",
        "release": "checkout@3.1.4",
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
    assert (data["release"], data["environment"]) == ("checkout@3.1.4", "staging")
    assert data["platform"] == "go"
    assert (data["sdk"]["name"], data["sdk"]["version"]) == ("sentry.go", "0.11.0")
    assert data["contexts"]["trace"]["op"] == "http.server"

    message = stored[output["ids"]["message"]]
    assert (message.message, message.level, message.class_name) == (
        "Payment gateway timed out",
        30,
        None,
    )
    assert message.traceback is None
    assert (message.site, message.server_name) == ("checkout-service", "go-web-01")
    assert message.datetime == backdated
    assert message.view == ""
    assert message.data["tags"] == data["tags"]
    assert message.data["user"] == data["user"]
    assert message.data["breadcrumbs"] == data["breadcrumbs"]
    assert message.group_id != exception.group_id


def test_sentry_gos_transaction_gets_a_200_beside_its_error(send, ingest_server):
    key = make_key(label="checkout-service")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    output = run(send, ingest_server.dsn(key), now)

    # Events go to the store endpoint, the transaction to the envelope one;
    # the transaction is taken and stored as nothing.
    prefix = f"/sentry/api/{key.project_id}"
    assert sorted(output["requests"], key=lambda r: r["path"]) == [
        {"path": f"{prefix}/envelope/", "status": 200},
        {"path": f"{prefix}/store/", "status": 200},
        {"path": f"{prefix}/store/", "status": 200},
    ]
    assert len(ingest_server.stored(count=2)) == 2
