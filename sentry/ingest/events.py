"""
Accept events: check each item, queue it, answer.

Accepted means durable: an endpoint answers 200 once the events' rows are
committed to the queue (:mod:`sentry.queue`); mapping, shaping, scrubbing,
grouping and storing happen afterwards, in batches, in the digest
(:mod:`sentry.digest`). What stays here is what decides the answer: the
item's size and that it is a JSON object (400/413 as before), the rate
limit (429) and the event's id. A failure to queue is ours (503, which SDKs
take as "drop and carry on"), logged to ``sentry.errors``.
"""

import logging

from django.db import connections

from .. import drain, queue
from ..conf import settings
from ..db import DEFERRED, get_write_alias, run_in_transaction
from ..pipeline import normalize_message_id
from . import mapping
from .decoding import parse_json_object
from .envelope import EVENT_ITEM_TYPES
from .ratelimit import admit, check_rate_limit, limited
from .responses import ServiceUnavailable, TooLarge

logger = logging.getLogger("sentry.errors")

#: Item type -> queue kind.
KINDS = {
    "event": queue.KIND_EVENT,
    "feedback": queue.KIND_FEEDBACK,
    "user_report": queue.KIND_USER_REPORT,
}


def enqueue(entries):
    """Commit ``entries`` to the queue, then get them digested (``SENTRY_DIGEST``)."""
    alias = get_write_alias(queue.QueuedEvent)
    try:
        if connections[alias].in_atomic_block:
            result = run_in_transaction(
                lambda using: queue.enqueue(using, entries), alias
            )
        else:
            # One statement in autocommit mode is a transaction of its own:
            # committed when it returns, and no more round trips than that.
            result = queue.enqueue(alias, entries)
    except Exception as exc:
        logger.error("Unable to queue an ingested event", exc_info=True)
        raise ServiceUnavailable("the event could not be stored now") from exc
    if result is not DEFERRED:
        drain.after_enqueue(alias)


def site_of(key):
    """Return the site events sent with ``key`` are filed under."""
    return settings.INGEST_SITE or (key.label if key is not None else None)


def project_of(key):
    """Return the id of the project events sent with ``key`` are filed under."""
    return key.project_id if key is not None else None


def accept_event(payload, key, client_ip=None, body=None):
    """Queue one event payload (store endpoint); return its id."""
    check_rate_limit(key)
    event_id = normalize_message_id(payload.get("event_id"))
    enqueue(
        [
            queue.Entry(
                event_id,
                queue.KIND_EVENT,
                body,
                site=site_of(key),
                project_id=project_of(key),
                client_ip=client_ip,
            )
        ]
    )
    return event_id


def accept_envelope(envelope, key, client_ip=None):
    """
    Queue the events of an envelope; return the response's body and headers.

    Event, feedback and user report items are queued; every other item
    type (transactions, sessions, attachments, client reports, ...) is
    skipped without being parsed. Each event counts against the rate limits
    of the key and its project: the ones over it are dropped, never queued, and named in
    ``X-Sentry-Rate-Limits``. All dropped is a 429; some dropped is a 200
    for the others, which are committed (so a 4xx never leaves a row), with
    the header, which sentry-sdk honours on any status.
    """
    headers = envelope.headers
    header_id = headers.get("event_id")
    header_id = header_id if isinstance(header_id, str) else None
    sent_at = headers.get("sent_at")
    sent_at = sent_at[:64] if isinstance(sent_at, str) else None
    items = [item for item in envelope.items if item.type in EVENT_ITEM_TYPES]
    if not items:
        return {}, {}
    limit = settings.INGEST_MAX_EVENT_SIZE
    entries = []
    site = site_of(key)
    for item in items:
        if len(item.payload) > limit:
            raise TooLarge(f"{item.type} item over {limit} bytes")
        payload = parse_json_object(item.payload, f"the {item.type} item")
        if item.type == "user_report":
            event_id = mapping.user_report_id(payload)
        else:
            # The envelope header's id wins over the payload's.
            event_id = normalize_message_id(
                header_id if header_id is not None else payload.get("event_id")
            )
        entries.append(
            queue.Entry(
                event_id,
                KINDS[item.type],
                bytes(item.payload),
                site=site,
                project_id=project_of(key),
                client_ip=client_ip,
                sent_at=sent_at,
            )
        )
    # Checked (a malformed envelope is a 400 and uses no quota), then counted.
    entries, headers = enqueue_admitted(key, entries)
    return {"id": entries[0].event_id}, headers


def enqueue_admitted(key, entries):
    """
    Queue the ``entries`` the rate limits admit, each counted as one.

    The key's limit and its project's both apply (:mod:`.ratelimit`).
    Return those queued and the answer's headers: ``X-Sentry-Rate-Limits``
    when some were left out. When none is admitted, raise the 429.
    """
    admitted, scope = admit(key, len(entries))
    headers = {}
    if admitted < len(entries):
        refusal = limited(scope)
        if not admitted:
            raise refusal
        entries = entries[:admitted]
        headers = {"X-Sentry-Rate-Limits": refusal.headers["X-Sentry-Rate-Limits"]}
    enqueue(entries)
    return entries, headers
