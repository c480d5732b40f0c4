"""
@sentry/node (pinned in tests/sdks/js) against the app under gunicorn.

The SDK runs unmodified in a Node process (``tests/sdks/js/node_send.mjs``)
with its own transport, which streams every body chunked, without a
``Content-Length``; the tests then read what was stored, field by field.
"""

import datetime as dt
import json

import pytest

from sentry.models import GroupedMessage, Message
from tests.ingest_factories import make_key
from tests.sdk_js import JS_DIR, installed_version, run_node

pytestmark = pytest.mark.slow

SCRIPT = JS_DIR / "node_send.mjs"
BACK_DATED = dt.timedelta(hours=3)


def line_of(code):
    """Return the line number of ``code`` in the script."""
    lines = SCRIPT.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip() == code)


def send(mode, server, key, *args):
    return run_node("node_send.mjs", mode, server.dsn(key), *args)


def test_the_pinned_node_sdk_is_the_one_tested():
    assert installed_version("@sentry/node") == "11.12.0"


def test_errors_from_node_are_stored_field_by_field(ingest_server):
    key = make_key(label="shop-api")
    before = dt.datetime.now(dt.UTC)
    output = send("errors", ingest_server, key)
    after = dt.datetime.now(dt.UTC)

    assert all(envelope["status"] == 200 for envelope in output["sent"])
    stored = {m.message_id: m for m in ingest_server.stored(count=2)}
    ids = output["ids"]
    assert set(stored) == set(ids.values())

    error = stored[ids["exception"]]
    assert error.class_name == "Error"
    assert error.message == "Error: could not check out order 77"
    assert error.level == 40
    assert error.logger == ""
    assert error.site == "shop-api"
    assert error.server_name == "node-01"
    # As JavaScript's tools show a frame: the function and the file's name.
    assert error.view == "checkout(node_send.mjs)"
    assert before - BACK_DATED <= error.datetime <= after - BACK_DATED
    # The cause first, as Python prints a chain, then what it caused.
    traceback = error.traceback
    assert (
        traceback.index(
            "TypeError: Cannot read properties of undefined (reading 'amount')"
        )
        < traceback.index("The above exception was the direct cause")
        < traceback.index("Error: could not check out order 77")
    )
    faulty = line_of("return price.amount;")
    assert f'File "{SCRIPT}", line {faulty}, in loadOrder' in traceback
    assert "    return price.amount;" in traceback
    assert "throw new Error(`could not check out order ${order.id}`" in traceback

    data = error.data
    values = data["exception"]["values"]
    assert [(v["type"], v["value"]) for v in values] == [
        ("TypeError", "Cannot read properties of undefined (reading 'amount')"),
        ("Error", "could not check out order 77"),
    ]
    assert values[0]["mechanism"]["source"] == "cause"
    innermost = values[0]["stacktrace"]["frames"][-1]
    assert (innermost["function"], innermost["lineno"], innermost["in_app"]) == (
        "loadOrder",
        faulty,
        True,
    )
    assert innermost["context_line"] == "  return price.amount;"
    assert data["tags"] == {
        "tenant": "acme",
        "environment": "staging",
        "release": "shop-api@4.5.6",
    }
    assert data["user"] == {"id": "u-42", "email": "ada@example.com", "username": "ada"}
    assert [(b["category"], b["message"]) for b in data["breadcrumbs"]["values"]] == [
        ("auth", "user logged in"),
        ("cart", "added 3 items"),
    ]
    assert (data["release"], data["environment"]) == ("shop-api@4.5.6", "staging")
    assert data["sdk"]["name"] == "sentry.javascript.node"
    assert data["sdk"]["version"] == "11.12.0"
    assert data["contexts"]["runtime"]["name"] == "node"

    group = error.group
    assert (group.class_name, group.message, group.view) == (
        "Error",
        "Error: could not check out order 77",
        "checkout(node_send.mjs)",
    )
    assert (group.level, group.logger, group.times_seen) == (40, "", 1)
    assert group.last_seen == error.datetime

    warning = stored[ids["message"]]
    assert (warning.message, warning.level, warning.class_name) == (
        "Payment gateway timed out",
        30,
        None,
    )
    assert warning.server_name == "node-01"
    assert warning.site == "shop-api"
    assert before - BACK_DATED <= warning.datetime <= after - BACK_DATED
    assert warning.data["tags"]["tenant"] == "acme"
    assert warning.data["user"]["username"] == "ada"
    assert warning.group_id != error.group_id
    assert GroupedMessage.objects.count() == 2


@pytest.mark.parametrize(
    "lifecycle, tracing", [("stream", "span"), ("static", "transaction")]
)
def test_what_node_sends_beside_errors_is_answered_200_and_never_stored(
    ingest_server, lifecycle, tracing
):
    key = make_key(label="shop-api")
    output = send("items", ingest_server, key, lifecycle)

    sent = output["sent"]
    assert [e for e in sent if e["status"] != 200] == []
    types = {kind for envelope in sent for kind in envelope["types"]}
    assert types == {
        "event",
        "attachment",
        tracing,
        "session",
        "check_in",
        "log",
        "trace_metric",
        "client_report",
    }
    # Every error sent after (or, for attachments, with) each kind is stored;
    # the other items are not events here, and the message dropped by the
    # SDK's beforeSend never arrived.
    ids = output["ids"]
    stored = {m.message_id: m for m in ingest_server.stored(count=len(ids))}
    assert set(stored) == set(ids.values())
    assert Message.objects.count() == len(ids)
    for name, event_id in ids.items():
        assert stored[event_id].message == f"Error: beside {name}"
    # The attachments (one of 256 KiB) are skipped: nothing of them is kept.
    with_attachments = stored[ids["attachment"]]
    assert len(json.dumps(with_attachments.data)) < 20_000
