"""
sentry-ruby, the Ruby SDK, against the app served by gunicorn.

Debian's ``ruby-sentry-ruby`` runs ``tests/sdks/ruby/send.rb``, which reports
to a live :func:`~tests.sdk_server.ingest_server`; the test then reads what
was stored. sentry-ruby posts every item as an envelope, with a
``Content-Length``, gzipped from 30 KiB on (and an empty ``Content-Encoding``
below), with an empty line between two items.
"""

import datetime as dt
import json
import shutil
import subprocess

import pytest

from tests.ingest_factories import make_key
from tests.processes import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCRIPT = ROOT / "tests/sdks/ruby/send.rb"


@pytest.fixture(scope="module")
def ruby():
    ruby = shutil.which("ruby")
    found = ruby and subprocess.run(
        [ruby, "-e", 'require "sentry-ruby"'], capture_output=True, timeout=60
    )
    if not found or found.returncode != 0:
        pytest.fail("Ruby or Debian's sentry-ruby is missing: run `make sdks`")
    return ruby


def line_of(code):
    """Return the number of the line of send.rb that starts with ``code``."""
    lines = SCRIPT.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip().startswith(code))


def run(ruby, dsn, timestamp):
    result = subprocess.run(
        [ruby, SCRIPT, dsn, timestamp.isoformat()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_sentry_ruby_events_are_stored_field_by_field(ruby, ingest_server):
    key = make_key(label="billing-worker")
    backdated = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=3)

    output = run(ruby, ingest_server.dsn(key), backdated)

    stored = {m.message_id: m for m in ingest_server.stored(count=3)}
    assert set(stored) == set(output["ids"].values())
    exception = stored[output["ids"]["exception"]]
    assert exception.class_name == "OrderError"
    assert exception.message == "OrderError: could not save order 1234"
    assert exception.level == 40
    # sentry-ruby names no logger: none is made up.
    assert exception.logger == ""
    assert exception.site == "billing-worker"
    assert exception.server_name == "ruby-worker-01"
    assert exception.datetime == backdated
    # The innermost in-app frame, as filename.function (Ruby has no module).
    assert exception.view == "rescue in save_order (tests/sdks/ruby/send.rb)"
    # The cause chain (raise inside rescue), oldest first, each with its stack.
    values = exception.data["exception"]["values"]
    assert [(v["type"], v["value"]) for v in values] == [
        ("StorageError", "disk full while writing row 1234"),
        ("OrderError", "could not save order 1234"),
    ]
    cause_frame = values[0]["stacktrace"]["frames"][-1]
    assert (cause_frame["function"], cause_frame["in_app"]) == ("write_row", True)
    assert cause_frame["filename"] == "tests/sdks/ruby/send.rb"
    assert cause_frame["context_line"].strip().startswith("raise StorageError")
    assert values[1]["stacktrace"]["frames"][-1]["function"] == "rescue in save_order"
    # sentry-ruby does not say how the two are linked: neither of Python's
    # lines (Ruby sets a cause both for raise-in-rescue and for cause:).
    traceback = exception.traceback
    assert traceback.index("StorageError: disk full") < traceback.index(
        "The following exception is linked to the one above:"
    )
    assert "During handling" not in traceback
    raised = line_of("raise StorageError")
    assert f'send.rb", line {raised}, in write_row' in traceback
    assert traceback.endswith("OrderError: could not save order 1234")
    data = exception.data
    assert data["tags"] == {
        "tenant": "acme",
        "environment": "staging",
        "release": "billing@2.7.1",
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
    assert (data["release"], data["environment"]) == ("billing@2.7.1", "staging")
    assert data["platform"] == "ruby"
    assert data["sdk"] == {"name": "sentry.ruby", "version": "5.3.0"}
    assert data["contexts"]["trace"]["op"] == "queue.job"

    message = stored[output["ids"]["message"]]
    assert (message.message, message.level, message.class_name) == (
        "Payment gateway timed out",
        30,
        None,
    )
    assert message.traceback is None
    assert (message.site, message.server_name) == ("billing-worker", "ruby-worker-01")
    assert message.datetime == backdated
    assert message.view == ""
    assert message.data["tags"] == data["tags"]
    assert message.data["user"] == data["user"]
    assert message.data["breadcrumbs"] == data["breadcrumbs"]
    assert message.group_id != exception.group_id


def test_sentry_rubys_other_items_get_a_200_beside_its_errors(ruby, ingest_server):
    key = make_key(label="billing-worker")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    output = run(ruby, ingest_server.dsn(key), now)

    # A transaction and session aggregates each in an envelope of their own,
    # a client report beside a gzipped event: all taken.
    assert output["posts"] == [
        {"types": ["event"], "gzip": False, "ok": True},
        {"types": ["transaction"], "gzip": False, "ok": True},
        {"types": ["event"], "gzip": False, "ok": True},
        {"types": ["sessions"], "gzip": False, "ok": True},
        {"types": ["event", "client_report"], "gzip": True, "ok": True},
    ]
    stored = ingest_server.stored(count=3)
    assert len(stored) == 3
    large = stored[-1]
    assert large.message_id == output["ids"]["large"]
    assert large.message == "Nightly report attached"
    assert large.data["extra"]["report"].startswith("0123456789abcdef" * 4)
