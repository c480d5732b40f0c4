"""
What the ingest endpoints answer: JSON successes, precise errors, CORS.

Errors follow Sentry's servers: a JSON body ``{"detail": ..., "causes":
[...]}`` and the same text in an ``X-Sentry-Error`` header, which raven logs.
"""

import simplejson
from django.http import HttpResponse

from ..conf import settings

#: Headers browser SDKs send, and may send cross-origin.
CORS_ALLOW_HEADERS = (
    "Content-Type, Content-Encoding, Authorization, X-Sentry-Auth, "
    "X-Requested-With, Origin, Accept, sentry-trace, baggage"
)
CORS_EXPOSE_HEADERS = "X-Sentry-Error, X-Sentry-Rate-Limits, Retry-After"


class IngestError(Exception):
    """A refusal: raised anywhere below the views, answered as JSON."""

    status = 400

    def __init__(self, detail, causes=(), headers=None):
        super().__init__(detail)
        self.detail = detail
        self.causes = [str(cause) for cause in causes if cause]
        self.headers = dict(headers or {})


class BadRequest(IngestError):
    status = 400


class Unauthorized(IngestError):
    status = 401


class Forbidden(IngestError):
    status = 403


class MethodNotAllowed(IngestError):
    status = 405


class LengthRequired(IngestError):
    """A chunked body the server cannot hand over (no ``Content-Length``)."""

    status = 411


class TooLarge(IngestError):
    status = 413


class UnsupportedEncoding(IngestError):
    status = 415


class RateLimited(IngestError):
    """Over a key's or a project's rate limit: tell the SDK how long to back off."""

    status = 429

    def __init__(self, retry_after, categories="error;default;feedback", scope="key"):
        retry_after = max(int(retry_after), 1)
        super().__init__(
            f"rate limited: too many events for this {scope}",
            headers={
                "Retry-After": str(retry_after),
                # Integer seconds: sentry-sdk drops a limit like "60.0:error".
                # The scope and reason are Sentry's: key_quota, project_quota.
                "X-Sentry-Rate-Limits": (
                    f"{retry_after}:{categories}:{scope}:{scope}_quota"
                ),
            },
        )
        self.retry_after = retry_after


class ServiceUnavailable(IngestError):
    status = 503


def json_response(data, status=200, headers=None):
    response = HttpResponse(
        simplejson.dumps(data), status=status, content_type="application/json"
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error):
    """Return the answer to an :class:`IngestError`."""
    detail = error.detail
    # A header holds one line of Latin-1 text.
    header = detail.encode("latin-1", "replace").decode("latin-1")
    header = " ".join(header.split())[:200]
    return json_response(
        {"detail": detail, "causes": error.causes},
        status=error.status,
        headers={"X-Sentry-Error": header, **error.headers},
    )


def origin_allowed(origin):
    allowed = settings.INGEST_CORS_ORIGINS
    return "*" in allowed or origin in allowed


def add_cors_headers(request, response):
    """Let browsers read the answer (and send the next request)."""
    origin = request.META.get("HTTP_ORIGIN")
    if not origin:
        return response
    if origin_allowed(origin):
        # The request carries no cookies: any allowed origin can be echoed.
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
        response["Vary"] = "Origin"
    return response


def preflight_response(request):
    """Answer a CORS preflight (``OPTIONS``)."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin and not origin_allowed(origin):
        return error_response(Forbidden("origin not allowed"))
    response = HttpResponse(status=200)
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
    response["Access-Control-Max-Age"] = "3600"
    response["Allow"] = "POST, OPTIONS"
    return add_cors_headers(request, response)
