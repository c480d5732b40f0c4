"""
The Sentry SDK endpoints: ``api/<project_id>/envelope/``, ``.../store/`` and
``.../security/`` (browsers' CSP reports).

Each view reads top to bottom: who is sending, the body (capped, decoded),
its events (checked and queued, see :mod:`.events`), the answer. Refusals are raised as
:class:`~sentry.ingest.responses.IngestError` and answered as JSON by
:func:`ingest_endpoint`.
"""

import functools

from django.db import transaction
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from ..conf import settings
from . import security
from .auth import envelope_credentials, get_key, request_credentials
from .decoding import (
    HEAD_LIMIT,
    decode_content,
    decode_head,
    decode_store_body,
    parse_json_object,
    read_body,
)
from .envelope import parse_envelope, parse_envelope_header
from .events import accept_envelope, accept_event
from .responses import (
    Forbidden,
    IngestError,
    MethodNotAllowed,
    TooLarge,
    Unauthorized,
    add_cors_headers,
    error_response,
    json_response,
    origin_allowed,
    preflight_response,
)

ENVELOPE_CONTENT_TYPE = "application/x-sentry-envelope"


def ingest_endpoint(view):
    """Make ``view`` an ingest endpoint: CSRF-exempt, POST, CORS, JSON errors."""

    # Never inside ATOMIC_REQUESTS' transaction: the 200 must mean committed.
    @transaction.non_atomic_requests
    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "OPTIONS":
            return preflight_response(request)
        try:
            # META, not request.headers (a dict of every header, built first).
            origin = request.META.get("HTTP_ORIGIN")
            if origin and not origin_allowed(origin):
                raise Forbidden("origin not allowed")
            if request.method != "POST":
                raise MethodNotAllowed(
                    f"method {request.method} not allowed", headers={"Allow": "POST"}
                )
            response = view(request, *args, **kwargs)
        except IngestError as error:
            response = error_response(error)
        return add_cors_headers(request, response)

    return wrapper


def client_ip(request):
    return request.META.get("REMOTE_ADDR")


def read_decoded(request, limit):
    """Return the request body, ``Content-Encoding`` undone, within ``limit``."""
    body = read_body(request, limit)
    return decode_content(body, request.META.get("HTTP_CONTENT_ENCODING"), limit)


@ingest_endpoint
def envelope(request, project_id):
    """Accept an envelope (every modern SDK sends here)."""
    return _envelope(request, project_id, request_credentials(request))


def _envelope(request, project_id, credentials):
    # Refuse a bad key before reading the body, when the request names one.
    key = get_key(credentials, project_id) if credentials is not None else None
    limit = settings.INGEST_MAX_ENVELOPE_SIZE
    body = read_body(request, limit)
    encoding = request.META.get("HTTP_CONTENT_ENCODING")
    if key is None:
        # Only the envelope header names the key: decode that line alone and
        # refuse a bad key before decoding the rest (up to the limit). The
        # line is bounded, else a long one would get the rest decoded first.
        head = decode_head(body, encoding, limit)
        if head is None:
            raise TooLarge(
                f"an envelope header over {HEAD_LIMIT} bytes needs the key "
                "in the X-Sentry-Auth header"
            )
        key = get_key(envelope_credentials(parse_envelope_header(head)), project_id)
    parsed = parse_envelope(decode_content(body, encoding, limit))
    from_dsn = envelope_credentials(parsed.headers)
    if key is None:
        key = get_key(from_dsn, project_id)
    elif (
        credentials is not None
        and from_dsn is not None
        and from_dsn.public_key != credentials.public_key
    ):
        raise Unauthorized("multiple authorization payloads detected")
    body, headers = accept_envelope(parsed, key, client_ip(request))
    return json_response(body, headers=headers)


@ingest_endpoint
def store(request, project_id):
    """Accept one event as a JSON object (raven and other legacy clients)."""
    credentials = request_credentials(request)
    if request.content_type == ENVELOPE_CONTENT_TYPE:
        # As Sentry's servers do: an envelope posted here is an envelope.
        return _envelope(request, project_id, credentials)
    key = get_key(credentials, project_id)
    limit = settings.INGEST_MAX_EVENT_SIZE
    body = decode_store_body(read_decoded(request, limit), limit)
    payload = parse_json_object(body)
    return json_response({"id": accept_event(payload, key, client_ip(request), body)})


@ingest_endpoint
def security_report(request, project_id):
    """
    Accept browsers' CSP violation reports (``report-uri`` or ``report-to``).

    Answered 201 without a body, as Sentry's servers do (browsers ignore it).
    """
    key = get_key(request_credentials(request), project_id)
    security.check_content_type(request.content_type)
    batch = request.content_type == security.REPORT_TO_TYPE
    limit = (
        settings.INGEST_MAX_ENVELOPE_SIZE if batch else settings.INGEST_MAX_EVENT_SIZE
    )
    reports = security.parse_reports(read_decoded(request, limit), request.content_type)
    headers = security.accept_reports(reports, key, client_ip(request))
    response = HttpResponse(status=201)
    for name, value in headers.items():
        response[name] = value
    return response
