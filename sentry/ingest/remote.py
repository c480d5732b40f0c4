"""
The classic ``store/`` endpoint: events from other sites' remote clients.

The request must be signed with the shared ``SENTRY_KEY`` (see
:mod:`sentry.utils.wire`): the signature is checked, in constant time,
before the body is inflated or parsed, and its timestamp must be within
``SENTRY_REMOTE_MAX_AGE`` seconds of this server's clock. A request replayed
inside that window changes nothing: an occurrence's ``message_id`` is
stored once. Accepted events are queued and digested like the SDKs' (see
:mod:`sentry.ingest.events`).
"""

import time

from .. import queue
from ..conf import settings
from ..pipeline import normalize_message_id
from ..utils import wire
from .decoding import decode_content, parse_json_object, read_body, whole_number
from .events import enqueue
from .responses import (
    BadRequest,
    Forbidden,
    Unauthorized,
    UnsupportedEncoding,
    json_response,
)
from .views import ingest_endpoint


def check_format(request):
    """Refuse bodies that are not zlib-compressed JSON."""
    if request.content_type != wire.CONTENT_TYPE:
        raise UnsupportedEncoding(
            f"Content-Type must be {wire.CONTENT_TYPE}, not {request.content_type!r}"
        )
    encoding = (request.headers.get("Content-Encoding") or "").strip().lower()
    if encoding != wire.CONTENT_ENCODING:
        raise UnsupportedEncoding(
            f"Content-Encoding must be {wire.CONTENT_ENCODING}, not {encoding!r}"
        )


def signed_timestamp(request):
    """Return the request's timestamp if it is signed and recent enough."""
    signature = request.headers.get(wire.SIGNATURE_HEADER)
    timestamp = request.headers.get(wire.TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise Unauthorized(
            f"missing {wire.SIGNATURE_HEADER} or {wire.TIMESTAMP_HEADER} header"
        )
    # Whole seconds in ASCII digits: a number of hundreds of digits would
    # overflow the comparison with the clock below.
    timestamp = whole_number(timestamp, 12)
    if timestamp is None:
        raise BadRequest(f"{wire.TIMESTAMP_HEADER} must be whole seconds")
    if abs(time.time() - timestamp) > settings.REMOTE_MAX_AGE:
        raise Forbidden("stale or future timestamp: check the clocks")
    return timestamp, signature


@ingest_endpoint
def store(request):
    """Accept one signed event from a remote django-sentry client."""
    key = settings.KEY
    if not key:
        raise Forbidden("this server takes no remote events (SENTRY_KEY is not set)")
    timestamp, signature = signed_timestamp(request)
    check_format(request)
    limit = settings.INGEST_MAX_EVENT_SIZE
    body = read_body(request, limit)
    if not wire.verify(key, timestamp, body, signature):
        raise Forbidden("bad signature")
    data = decode_content(body, wire.CONTENT_ENCODING, limit)
    payload = parse_json_object(data)
    event_id = normalize_message_id(payload.get("message_id"))
    enqueue([queue.Entry(event_id, queue.KIND_REMOTE, data)])
    return json_response({"id": event_id})
