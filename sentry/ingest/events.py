"""
Accept events: map each item, then prepare and record it through the pipeline.

Once an endpoint answers 200 the event is committed: recording is
synchronous. A failure to map or prepare an event is the sender's data
(400, logged to ``sentry.errors`` so that it can be fixed here); a failure to
record it is ours (503, which SDKs take as "drop and carry on").
"""

import logging

from .. import pipeline
from ..conf import settings
from . import mapping
from .decoding import parse_json_object
from .envelope import EVENT_ITEM_TYPES
from .ratelimit import check_rate_limit
from .responses import BadRequest, IngestError, ServiceUnavailable, TooLarge

logger = logging.getLogger("sentry.errors")


def prepare(build, *args, **kwargs):
    """Return ``build(*args, **kwargs)`` prepared by the pipeline."""
    try:
        return pipeline.prepare(build(*args, **kwargs))
    except IngestError:
        raise
    except Exception as exc:
        logger.warning("Unable to read an ingested event", exc_info=True)
        raise BadRequest("the event could not be read", causes=[exc]) from None


def record(event):
    """Store a prepared event; return its ``message_id``."""
    try:
        pipeline.record(event)
    except Exception as exc:
        logger.error("Unable to store an ingested event", exc_info=True)
        raise ServiceUnavailable("the event could not be stored now") from exc
    return event["message_id"]


def accept_event(payload, key, client_ip=None):
    """Store one event payload (store endpoint); return its id."""
    check_rate_limit(key)
    event = prepare(mapping.map_event, payload, key=key, client_ip=client_ip)
    return record(event)


def accept_envelope(envelope, key, client_ip=None):
    """
    Store the events of an envelope; return the response body.

    Event, feedback and user report items are processed; every other item
    type (transactions, sessions, attachments, client reports, ...) is
    skipped without being parsed.
    """
    headers = envelope.headers
    event_id = headers.get("event_id")
    event_id = event_id if isinstance(event_id, str) else None
    items = [item for item in envelope.items if item.type in EVENT_ITEM_TYPES]
    if not items:
        return {}
    limit = settings.INGEST_MAX_EVENT_SIZE
    payloads = []
    for item in items:
        if len(item.payload) > limit:
            raise TooLarge(f"{item.type} item over {limit} bytes")
        payloads.append(
            (item.type, parse_json_object(item.payload, f"the {item.type} item"))
        )
    check_rate_limit(key)
    events = []
    for item_type, payload in payloads:
        if item_type == "event":
            events.append(
                prepare(
                    mapping.map_event,
                    payload,
                    key=key,
                    event_id=event_id,
                    sent_at=headers.get("sent_at"),
                    client_ip=client_ip,
                )
            )
        elif item_type == "feedback":
            events.append(
                prepare(
                    mapping.map_feedback,
                    payload,
                    key=key,
                    event_id=event_id,
                    client_ip=client_ip,
                )
            )
        else:
            events.append(prepare(mapping.map_user_report, payload, key=key))
    ids = [record(event) for event in events]
    return {"id": ids[0]}
