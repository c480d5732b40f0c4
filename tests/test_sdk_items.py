"""
The items SDKs send that are not errors, as the SDKs shape them, posted to
the app under gunicorn with an error beside each.

Only ``event``, ``feedback`` and ``user_report`` items are events here; the
others (replays, profiles, spans, metrics, OpenTelemetry logs, attachments,
types not invented yet) are answered 200 and skipped unread, and never cost
the error beside them. The ones @sentry/node sends itself (transactions,
sessions, check-ins, logs, client reports, attachments) are in
``tests/test_sdk_node.py``; these are the ones it does not send headless.
"""

import gzip
import http.client
import json
import time

import pytest

from sentry.models import Message
from tests.ingest_factories import make_key, message_event, new_event_id

pytestmark = pytest.mark.slow

NOW = time.time()
TRACE = {"trace_id": "4c79f60c11214eb38604f4ae0781bfb2", "public_key": "x"}


def rrweb_segment():
    """A replay recording: a header line, then gzipped rrweb events."""
    events = [{"type": 4, "data": {"href": "http://shop.test/"}, "timestamp": 1}]
    return b'{"segment_id":0}\n' + gzip.compress(json.dumps(events).encode())


#: What each kind of SDK item looks like: (item headers, payload).
ITEMS = {
    "replay": [
        (
            {"type": "replay_event"},
            {
                "type": "replay_event",
                "replay_id": new_event_id(),
                "segment_id": 0,
                "timestamp": NOW,
                "urls": ["http://shop.test/"],
            },
        ),
        ({"type": "replay_recording"}, rrweb_segment()),
    ],
    "profile": [
        (
            {"type": "profile"},
            {"version": "1", "platform": "node", "profile": {"samples": []}},
        ),
        (
            {"type": "profile_chunk", "platform": "node"},
            {"chunk_id": new_event_id(), "profile": {"samples": []}},
        ),
    ],
    "statsd": [
        ({"type": "statsd"}, b"orders.shipped@none:1|c|#tenant:acme|T1700000000"),
        ({"type": "metric_buckets"}, {"c:orders@none": [{"value": 1.0}]}),
    ],
    "span": [
        (
            {
                "type": "span",
                "item_count": 1,
                "content_type": "application/vnd.sentry.items.span.v2+json",
            },
            {"version": 2, "items": [{"name": "GET /", "span_id": "a" * 16}]},
        ),
        ({"type": "otel_span"}, {"name": "GET /", "kind": 2}),
    ],
    "otel_log": [
        ({"type": "otel_log"}, {"severityText": "INFO", "body": {"stringValue": "hi"}}),
        (
            {
                "type": "log",
                "item_count": 1,
                "content_type": "application/vnd.sentry.items.log+json",
            },
            {"version": 2, "items": [{"level": "info", "body": "order shipped"}]},
        ),
    ],
    "attachment": [
        # Binary, newlines included, bigger than an event may be (1 MiB).
        (
            {"type": "attachment", "filename": "dump.bin"},
            b"\n\x00\xff{not json}\n" * 200_000,
        ),
        (
            {
                "type": "attachment",
                "attachment_type": "event.minidump",
                "filename": "crash.dmp",
            },
            b"MDMP" + b"\x00" * 1000,
        ),
    ],
    "future": [
        ({"type": "something_invented_in_2030"}, {"any": "shape"}),
        ({"type": "another_one", "length_unit": "bytes"}, b"\x00\x01\x02 raw"),
    ],
}


def item_lines(headers, payload):
    if not isinstance(payload, bytes):
        payload = json.dumps(payload).encode()
    return [json.dumps({**headers, "length": len(payload)}).encode(), payload]


def envelope_with(kind, event):
    """The items of ``kind``, one before the error and one after it."""
    before, after = ITEMS[kind]
    lines = [json.dumps({"event_id": event["event_id"], "trace": TRACE}).encode()]
    lines += item_lines(*before)
    lines += item_lines({"type": "event"}, event)
    lines += item_lines(*after)
    return b"\n".join(lines) + b"\n"


def envelope_without_event(kind):
    lines = [json.dumps({"sent_at": "2026-12-07T05:00:00Z"}).encode()]
    for headers, payload in ITEMS[kind]:
        lines += item_lines(headers, payload)
    return b"\n".join(lines)


def post(server, key, body):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(
            "POST",
            f"/sentry/api/{key.project_id}/envelope/",
            body=body,
            headers={
                "Content-Type": "application/x-sentry-envelope",
                "X-Sentry-Auth": f"Sentry sentry_key={key.public_key}",
            },
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_every_kind_of_item_is_answered_200_and_the_error_beside_it_stored(
    ingest_server,
):
    key = make_key(label="web")
    sent = {}
    for kind in ITEMS:
        event = message_event(f"error beside {kind}", level="error", timestamp=NOW)
        assert post(ingest_server, key, envelope_with(kind, event)) == (
            200,
            {"id": event["event_id"]},
        ), kind
        assert post(ingest_server, key, envelope_without_event(kind)) == (200, {})
        sent[event["event_id"]] = event["message"]

    stored = ingest_server.stored(count=len(sent))
    assert {m.message_id: m.message for m in stored} == sent
    assert Message.objects.count() == len(ITEMS)
    # Nothing of the items beside is kept with the error.
    assert all(len(json.dumps(m.data)) < 1000 for m in stored)
