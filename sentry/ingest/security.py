"""
Browser security reports: CSP violations, turned into events.

Browsers post them to ``api/<project_id>/security/?sentry_key=...`` in one
of two shapes:

- ``report-uri`` (``Content-Type: application/csp-report``): one object,
  ``{"csp-report": {"document-uri": ..., "blocked-uri": ..., ...}}``;
- the Reporting API's ``report-to`` (``application/reports+json``): a list
  of reports, ``{"type": "csp-violation", "age": ..., "body":
  {"documentURL": ..., "blockedURL": ..., ...}}``. Reports of other types
  are accepted and ignored.

Each CSP report becomes a Sentry event payload (logger ``csp``, level
``warning``: the browser blocked the load, nothing broke yet) queued like an
SDK's event, so the digest maps, scrubs, groups and stores it. Its
fingerprint is the effective directive and the blocked host: the same
directive blocking the same host is one group, whatever page it was on.
"""

import json
import time
import uuid
from urllib.parse import urlsplit

from .. import queue
from ..conf import settings
from .events import enqueue_admitted, project_of, site_of
from .mapping import integer, text
from .responses import BadRequest, TooLarge, UnsupportedEncoding

LOGGER = "csp"
LEVEL = "warning"
REPORT_URI_TYPES = frozenset({"application/csp-report", "application/json"})
REPORT_TO_TYPE = "application/reports+json"
#: Reports in one Reporting API batch, at most (browsers send a few).
MAX_REPORTS = 100
#: Longest URL and policy kept, in characters.
MAX_URL_LENGTH = 2048
MAX_POLICY_LENGTH = 4096
MAX_DIRECTIVE_LENGTH = 64
#: The report's fields: report-uri name, report-to name, stored name.
FIELDS = (
    ("document-uri", "documentURL", "document_uri", MAX_URL_LENGTH),
    ("referrer", "referrer", "referrer", MAX_URL_LENGTH),
    ("blocked-uri", "blockedURL", "blocked_uri", MAX_URL_LENGTH),
    ("violated-directive", "violatedDirective", "violated_directive", 512),
    ("effective-directive", "effectiveDirective", "effective_directive", 512),
    ("original-policy", "originalPolicy", "original_policy", MAX_POLICY_LENGTH),
    ("source-file", "sourceFile", "source_file", MAX_URL_LENGTH),
    ("script-sample", "sample", "script_sample", 256),
    ("disposition", "disposition", "disposition", 32),
)
NUMBER_FIELDS = (
    ("status-code", "statusCode", "status_code"),
    ("line-number", "lineNumber", "line_number"),
    ("column-number", "columnNumber", "column_number"),
)
#: What a directive blocks, as the message says it.
BLOCKED_THINGS = {
    "child-src": "child",
    "connect-src": "connection",
    "font-src": "font",
    "form-action": "form action",
    "frame-ancestors": "frame ancestor",
    "frame-src": "frame",
    "img-src": "image",
    "manifest-src": "manifest",
    "media-src": "media",
    "object-src": "object",
    "script-src": "script",
    "script-src-attr": "script",
    "script-src-elem": "script",
    "style-src": "style",
    "style-src-attr": "style",
    "style-src-elem": "style",
    "worker-src": "worker",
}
#: Blocked "URLs" that are keywords: what was blocked is not from a host.
KEYWORDS = frozenset({"inline", "eval", "wasm-eval", "trusted-types-policy"})


def parse_reports(body, content_type):
    """
    Return the CSP reports of a body as dicts of the stored field names.

    ``report-uri`` bodies hold one report; ``report-to`` bodies a list, of
    which the ``csp-violation`` reports are returned (the others ignored).
    A bad body is :class:`BadRequest`; too many reports, or one over the
    event size cap, :class:`TooLarge`.
    """
    value = _json(body)
    if content_type == REPORT_TO_TYPE or isinstance(value, list):
        if not isinstance(value, list):
            raise BadRequest("a reports+json body must be a JSON list")
        if len(value) > MAX_REPORTS:
            raise TooLarge(f"more than {MAX_REPORTS} reports in one batch")
        reports = []
        limit = settings.INGEST_MAX_EVENT_SIZE
        for item in value:
            if not isinstance(item, dict) or item.get("type") != "csp-violation":
                continue
            if len(json.dumps(item)) > limit:
                raise TooLarge(f"a report over {limit} bytes")
            report = _fields(item.get("body"), 1)
            report["user_agent"] = text(item.get("user_agent"), 512)
            report["url"] = text(item.get("url"), MAX_URL_LENGTH)
            age = integer(item.get("age"))
            report["age"] = age if age is not None and age >= 0 else None
            reports.append(report)
        return reports
    if not isinstance(value, dict):
        raise BadRequest("a csp-report body must be a JSON object")
    return [_fields(value.get("csp-report"), 0)]


def _json(body):
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise BadRequest("the report is not valid UTF-8", causes=[exc]) from None
    except RecursionError:
        raise BadRequest("the report is nested too deeply") from None
    except ValueError as exc:
        raise BadRequest("the report is not valid JSON", causes=[exc]) from None


def _fields(value, form):
    """Return the known fields of a report body; ``form`` 0 hyphenated, 1 camel."""
    value = value if isinstance(value, dict) else {}
    report = {}
    for *names, stored, limit in FIELDS:
        report[stored] = text(value.get(names[form]), limit)
    for *names, stored in NUMBER_FIELDS:
        number = integer(value.get(names[form]))
        report[stored] = number if number is not None and number >= 0 else None
    return report


def effective_directive(report):
    """The directive that blocked: ``effective`` or the violated one's name."""
    directive = report.get("effective_directive") or report.get("violated_directive")
    if not directive:
        return "unknown"
    # "img-src 'none'" (violated directive, older browsers) names img-src.
    name = directive.split(None, 1)[0] if directive.strip() else ""
    return name.lower()[:MAX_DIRECTIVE_LENGTH] or "unknown"


def blocked_host(blocked):
    """The host of a blocked URL, or its keyword (``inline``, ``data``...)."""
    if not blocked:
        return "unknown"
    if "://" in blocked:
        try:
            host = urlsplit(blocked).hostname
        except ValueError:
            host = None
        return (host or "unknown")[:255]
    # "data", "blob", "inline", "eval", "self" or a scheme ("data:...").
    return blocked.split(":", 1)[0].strip().lower()[:64] or "unknown"


def to_event(report, received=None):
    """Return the SDK-shaped event payload of one parsed report."""
    received = time.time() if received is None else received
    directive = effective_directive(report)
    host = blocked_host(report.get("blocked_uri"))
    thing = BLOCKED_THINGS.get(directive, directive)
    if host in KEYWORDS:
        message = f"Blocked {host} '{thing}'"
    else:
        message = f"Blocked '{thing}' from '{host}'"
    age = report.pop("age", None)
    user_agent = report.pop("user_agent", None)
    page = report.pop("url", None)
    csp = {name: value for name, value in report.items() if value is not None}
    request = {"url": report.get("document_uri") or page}
    headers = {}
    if user_agent:
        headers["User-Agent"] = user_agent
    if report.get("referrer"):
        headers["Referer"] = report["referrer"]
    if headers:
        request["headers"] = headers
    return {
        "event_id": uuid.uuid4().hex,
        # A report-to report's age: milliseconds between the violation and
        # the batch being sent (the mapping refuses implausible times).
        "timestamp": received - (age or 0) / 1000,
        "logger": LOGGER,
        "level": LEVEL,
        "platform": "javascript",
        "message": message,
        "culprit": directive,
        "fingerprint": ["csp", directive, host],
        "tags": {"effective-directive": directive, "blocked-host": host},
        "request": request,
        "csp": csp,
    }


def accept_reports(reports, key, client_ip=None):
    """
    Queue the reports' events; return the response headers.

    Each report counts against the key's rate limit as one event: the ones
    over it are dropped and named in ``X-Sentry-Rate-Limits``; all of them
    over it is a 429.
    """
    if not reports:
        return {}
    site = site_of(key)
    entries = []
    for report in reports:
        event = to_event(report)
        entries.append(
            queue.Entry(
                event["event_id"],
                queue.KIND_EVENT,
                json.dumps(event).encode("utf-8"),
                site=site,
                project_id=project_of(key),
                client_ip=client_ip,
            )
        )
    _, headers = enqueue_admitted(key, entries)
    return headers


def check_content_type(content_type):
    if content_type not in REPORT_URI_TYPES and content_type != REPORT_TO_TYPE:
        raise UnsupportedEncoding(
            f"unsupported content type {content_type[:100]!r}: send "
            "application/csp-report or application/reports+json"
        )
