"""
Map a Sentry event (protocol JSON from any SDK) onto the pipeline's event.

The classic columns are derived here -- title, type, traceback text, culprit,
logger, level, server, site, URL, time, id -- and everything else is kept in
``data`` in Sentry's layout. Input is untrusted JSON: every field is checked
for its type and coerced or dropped, never trusted to have the right one.
Bounding and scrubbing happen afterwards, in :func:`sentry.pipeline.prepare`.
"""

import datetime as dt
import hashlib
import json
import math
import re

from ..conf import settings
from ..grouping import frame_location
from ..pipeline import new_message_id, normalize_message_id
from ..scrubbing import parse_body
from ..sourcemaps.resolution import Resolution
from ..utils.shaping import to_text, truncate
from .decoding import whole_number

#: Names of the old "interfaces" (raven and other legacy clients).
LEGACY_ALIASES = {
    "sentry.interfaces.Message": "logentry",
    "sentry.interfaces.Exception": "exception",
    "sentry.interfaces.Stacktrace": "stacktrace",
    "sentry.interfaces.Http": "request",
    "sentry.interfaces.User": "user",
    "sentry.interfaces.Breadcrumbs": "breadcrumbs",
    "sentry.interfaces.Contexts": "contexts",
    "sentry.interfaces.Template": "template",
    "sentry.interfaces.Query": "query",
}
#: Top-level fields that become columns (or are rebuilt) rather than kept as is.
CONSUMED = frozenset(
    {
        "event_id",
        "timestamp",
        "level",
        "logger",
        "server_name",
        "culprit",
        "exception",
        "logentry",
        "message",
        "stacktrace",
        "fingerprint",
        "checksum",
    }
)
#: Top-level fields not worth storing for error tracking (large, or SDK noise).
DROPPED = frozenset(
    {
        "modules",
        "debug_meta",
        "_meta",
        "spans",
        "measurements",
        "breakdowns",
        "project",
        "time_spent",
        "repos",
        "received",
    }
)
FRAME_TEXT_FIELDS = (
    "filename",
    "abs_path",
    "module",
    "function",
    "raw_function",
    "context_line",
    "package",
    "platform",
    "instruction_addr",
    "symbol_addr",
    "image_addr",
    "addr_mode",
    "symbol",
    "source_link",
)
USER_FIELDS = ("id", "email", "username", "ip_address", "name", "segment")
#: Longest tag name and value (Sentry's servers allow 200 characters).
MAX_TAG_LENGTH = 200
#: Events stamped further in the future or past get the time they arrived.
MAX_FUTURE = dt.timedelta(seconds=60)
MAX_PAST = dt.timedelta(days=30)
#: Clock drift (sent_at against arrival) worth correcting.
MIN_DRIFT = dt.timedelta(seconds=60)
DEFAULT_TITLE = "<unlabeled event>"
#: ``server_name`` of events that name none (browser SDKs, for one).
UNKNOWN_SERVER = "unknown"

DIRECT_CAUSE = "The above exception was the direct cause of the following exception:"
CONTEXT = "During handling of the above exception, another exception occurred:"
#: Between two exceptions of a chain whose kind the SDK does not say
#: (sentry-go, sentry-ruby): Python's sentences would claim what is not known.
LINKED = "The following exception is linked to the one above:"
#: ``mechanism.source`` of an exception -> the line before the next one.
#: Python's ``__cause__`` and JavaScript's ``Error`` cause are explicit causes.
CHAIN_LINES = {"__cause__": DIRECT_CAUSE, "cause": DIRECT_CAUSE, "__context__": CONTEXT}
#: Platforms whose frames read ``function(file)``, as browsers' tools show them.
JAVASCRIPT_PLATFORMS = frozenset({"javascript", "node"})
#: Parts of a path that mark a library's code (installed packages, the
#: language's own), for SDKs that mark no frame as the application's.
LIBRARY_PATH_PARTS = (
    "/site-packages/",
    "/dist-packages/",
    "/node_modules/",
    "/gems/",
    "/rubygems",
    "/lib/ruby/",
    "/usr/lib/",
    "/usr/local/lib/",
    "/go/src/runtime/",
    "/go/pkg/mod/",
    "<internal:",
    "node:internal",
)

# printf-style placeholders, as Python's logging (and most SDKs) use them.
# One pass over attacker text: the runs are possessive (never given back) and
# do not overlap (a width starts with 1-9, a 0 being a flag); "%" + "0" * n
# used to backtrack over every split of the zeros, quadratic in n.
_PLACEHOLDER_RE = re.compile(
    r"%(?:\(([^)]{0,100})\))?[-#0 +]*+(?:[1-9]\d*+|\*)?(?:\.(?:\d++|\*))?[hlL]?"
    r"([diouxXeEfFgGcrsa%])"
)


def text(value, limit=None):
    """Return a scalar as text (``None`` for null, containers and empties)."""
    if type(value) is str:
        # Most of what JSON holds, and the fields this is asked for.
        if not value:
            return None
        return truncate(value, limit) if limit else value
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, float) and not math.isfinite(value):
        value = repr(value)
    value = to_text(value)
    if not value:
        return None
    return truncate(value, limit) if limit else value


def integer(value):
    """Return a whole number from an int, float or numeric string, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        # ASCII digits (int() takes "²"-like digits of other scripts, and
        # is slow on thousands of them), with a sign.
        value = value.strip()
        number = whole_number(value.removeprefix("-"), 18)
        if number is None:
            return None
        return -number if value.startswith("-") else number
    return None


def parse_timestamp(value):
    """Return an aware UTC datetime for an RFC 3339 string or Unix seconds."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        candidate = value.strip()
        if not candidate.isascii():
            # Both float() and fromisoformat() take digits of other scripts.
            return None
        try:
            value = float(candidate)
        except ValueError:
            try:
                parsed = dt.datetime.fromisoformat(candidate)
            except ValueError:
                return None
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=dt.UTC)
            return parsed.astimezone(dt.UTC)
    if isinstance(value, (int, float)):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def event_time(payload, received, sent_at=None):
    """Return when the event happened, corrected and kept plausible."""
    when = parse_timestamp(payload.get("timestamp"))
    if when is None:
        return received
    sent = parse_timestamp(sent_at)
    if sent is not None and abs(received - sent) > MIN_DRIFT:
        # The sender's clock is off: shift by how far off it is.
        try:
            when += received - sent
        except OverflowError:
            return received
    if when > received + MAX_FUTURE or when < received - MAX_PAST:
        return received
    return when


def dealias(payload):
    """Return the payload with the legacy interface names turned modern."""
    result = dict(payload)
    for legacy, modern in LEGACY_ALIASES.items():
        if legacy in result:
            value = result.pop(legacy)
            result.setdefault(modern, value)
    return result


# --- exceptions and frames ---------------------------------------------------


def normalize_frame(value):
    if not isinstance(value, dict):
        return None
    frame = {}
    for name in FRAME_TEXT_FIELDS:
        item = value.get(name)
        # Most frames have a few of these fields: skip the others cheaply.
        if item is not None:
            item = text(item)
            if item is not None:
                frame[name] = item
    for name in ("lineno", "colno"):
        number = value.get(name)
        if number is not None:
            number = integer(number)
            if number is not None:
                frame[name] = number
    for name in ("pre_context", "post_context"):
        lines = value.get(name)
        if isinstance(lines, list):
            frame[name] = [
                line if type(line) is str else text(line) or "" for line in lines
            ]
    if isinstance(value.get("in_app"), bool):
        frame["in_app"] = value["in_app"]
    if isinstance(value.get("vars"), dict):
        frame["vars"] = value["vars"]
    resolution = value.get("sourcemap")
    if isinstance(resolution, Resolution):
        # Set by the digest's source maps, never by a sender.
        frame["sourcemap"] = dict(resolution)
    return frame or None


def normalize_stacktrace(value):
    if not isinstance(value, dict):
        return None
    frames = value.get("frames")
    if not isinstance(frames, list):
        return None
    frames = [frame for frame in map(normalize_frame, frames) if frame]
    result = {"frames": frames}
    omitted = integer(value.get("frames_omitted"))
    if omitted and omitted > 0:
        result["frames_omitted"] = omitted
    return result


def _listed(value):
    """Return the entries of a ``{"values": [...]}``, a list or one object."""
    if isinstance(value, dict):
        value = value.get("values", [value])
    return value if isinstance(value, list) else []


def normalize_exceptions(value, stacktrace=None):
    """Return the exception entries, oldest first, each with a known layout."""
    result = []
    for item in _listed(value):
        if not isinstance(item, dict):
            continue
        entry = {"type": text(item.get("type")), "value": text(item.get("value"))}
        if entry["type"] is None and entry["value"] is None:
            continue
        module = text(item.get("module"))
        entry["module"] = module
        stack = normalize_stacktrace(item.get("stacktrace"))
        if stack is None:
            stack = normalize_stacktrace(item.get("raw_stacktrace"))
        if stack is not None:
            entry["stacktrace"] = stack
        if isinstance(item.get("mechanism"), dict):
            entry["mechanism"] = item["mechanism"]
        thread_id = item.get("thread_id")
        if isinstance(thread_id, (int, str)) and not isinstance(thread_id, bool):
            entry["thread_id"] = thread_id
        result.append(entry)
    if result and stacktrace is not None and "stacktrace" not in result[-1]:
        # A legacy top-level stack belongs to the exception reported.
        result[-1]["stacktrace"] = stacktrace
    return result


def synthetic_exception(exceptions):
    """
    Return the one entry of a message sent with its stack, else None.

    The browser SDK's ``captureMessage`` (with ``attachStacktrace``) sends
    the message as an exception without a type, marked synthetic.
    """
    if len(exceptions) != 1 or exceptions[0].get("type") is not None:
        return None
    mechanism = exceptions[0].get("mechanism") or {}
    return exceptions[0] if mechanism.get("synthetic") is True else None


def exception_title(entry):
    kind, value = entry.get("type"), entry.get("value")
    if kind and value:
        return f"{kind}: {value}"
    return kind or value or DEFAULT_TITLE


def frame_label(frame, platform=None):
    """
    Return a frame's code as a culprit names it, the way its language reads.

    JavaScript (browsers, Node): ``function(file)``, the file as browsers'
    tools show it (see :func:`script_name`): ``applyDiscount(app.bundle.js)``.
    Otherwise
    ``module.function`` when the frame has a module (Python, Go), else
    ``function (path)``, the file's path (a script's URL without its host and
    query): ``save_order (app/models/order.rb)``.
    """
    function = frame.get("function")
    if function == "?":
        function = None
    platform = frame.get("platform") or platform
    module = frame.get("module")
    if module and "/" in module:
        # Older JavaScript SDKs put the script's URL or path here.
        frame, module = {**frame, "module": None}, None
    if platform in JAVASCRIPT_PLATFORMS:
        name = script_name(frame.get("filename") or frame.get("abs_path") or "")
        if function and name:
            return f"{function}({name})"
        return function or name or module or ""
    if module:
        return f"{module}.{function}" if function else str(module)
    where = frame_location(frame)
    if where and function:
        return f"{function} ({where})"
    return where or function or ""


def script_name(path):
    """
    Return a JavaScript file as its frames are read: ``app.bundle.js``.

    A URL's path without its host, query and first slash
    (``static/app.js``); a file's name for an absolute path on the server
    (Node: ``/srv/shop/server.mjs`` is ``server.mjs``); a relative path (a
    source map's original, ``src/cart.js``) as it is.
    """
    path = str(path)
    scheme, separator, rest = path.partition("://")
    if separator and "/" not in scheme:
        path = rest.partition("/")[2].split("?", 1)[0].split("#", 1)[0]
    elif path.startswith(("/", "\\")) or path[1:3] in (":\\", ":/"):
        path = path.replace("\\", "/").rpartition("/")[2]
    return path


def looks_like_library(frame):
    """Return whether a frame's path is an installed package's or the language's."""
    path = frame.get("abs_path") or frame.get("filename") or ""
    return any(part in path for part in LIBRARY_PATH_PARTS)


def culprit(payload, exceptions):
    """Return the code to blame: ``culprit``, ``transaction`` or a frame."""
    for name in ("culprit", "transaction"):
        value = text(payload.get(name))
        if value:
            return value
    platform = text(payload.get("platform"))
    frames = [
        frame
        for entry in reversed(exceptions)
        for frame in reversed((entry.get("stacktrace") or {}).get("frames") or [])
    ]
    for frame in frames:
        if frame.get("in_app") and frame_label(frame, platform):
            return frame_label(frame, platform)
    for frame in frames:
        if frame.get("in_app") is not False and frame_label(frame, platform):
            return frame_label(frame, platform)
    # No frame is the application's (sentry-ruby outside its own idea of
    # an application's folders marks every one as a library's): the
    # innermost that is not plainly a library's, else the innermost.
    for candidates in ([f for f in frames if not looks_like_library(f)], frames):
        for frame in candidates:
            label = frame_label(frame, platform)
            if label:
                return label
    return ""


def type_label(entry):
    """
    Return an exception's type with its module, as Python prints it.

    The module is left out when it is Python's built-ins or when the type
    carries it already: sentry-ruby sends ``module: "Acc"`` beside
    ``type: "Acc::ConfigError"``.
    """
    kind = entry.get("type") or "Error"
    module = entry.get("module")
    if not module or module in ("builtins", "exceptions"):
        return kind
    if kind == module or kind.startswith((f"{module}::", f"{module}.")):
        return kind
    return f"{module}.{kind}"


def traceback_text(exceptions):
    """Return a Python-style traceback of the exception chain, oldest first."""
    blocks = []
    for index, entry in enumerate(exceptions):
        lines = []
        stack = entry.get("stacktrace") or {}
        frames = stack.get("frames") or []
        if frames:
            lines.append("Traceback (most recent call last):")
            for frame in frames:
                path = (
                    frame.get("abs_path")
                    or frame.get("filename")
                    or frame.get("module")
                    or "?"
                )
                lineno = frame.get("lineno")
                where = f", line {lineno}" if lineno is not None else ""
                lines.append(
                    f'  File "{path}"{where}, in {frame.get("function") or "?"}'
                )
                context_line = frame.get("context_line")
                if context_line and context_line.strip():
                    lines.append(f"    {context_line.strip()}")
            if stack.get("frames_omitted"):
                lines.append(f"  ({stack['frames_omitted']} frames omitted)")
        kind = type_label(entry)
        value = entry.get("value")
        lines.append(f"{kind}: {value}" if value else kind)
        if index < len(exceptions) - 1:
            source = (entry.get("mechanism") or {}).get("source")
            # Python's sentences only where the SDK says which kind of link
            # it was (sentry-python, the JavaScript SDKs).
            line = CHAIN_LINES.get(source) if isinstance(source, str) else None
            lines += ["", line or LINKED, ""]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


# --- messages ----------------------------------------------------------------


def _rendered(value):
    return value if isinstance(value, str) else json.dumps(value)


def interpolate(template, params, limit):
    """Fill printf-style placeholders; return None when the params do not fit."""
    if isinstance(params, list) and len(params) == 1 and isinstance(params[0], dict):
        named = params[0]
    else:
        named = params if isinstance(params, dict) else None
    positional = iter(params if isinstance(params, list) else [])
    size = 0
    # A named value is rendered once however often the template names it:
    # "%(a)s" a thousand times over a long list would dump it a thousand
    # times (quadratic in the size of the event).
    rendered_names = {}

    def replace(match):
        nonlocal size
        if match.group(2) == "%":
            return "%"
        name = match.group(1)
        if name is not None:
            if named is None:
                raise KeyError(name)
            value = named[name]
            rendered = rendered_names.get(name)
            if rendered is None:
                rendered = rendered_names[name] = _rendered(value)
        else:
            rendered = _rendered(next(positional))
        # Bounded however often a long value is referred to.
        rendered = rendered[: max(limit - size, 0)]
        size += len(rendered)
        return rendered

    try:
        return _PLACEHOLDER_RE.sub(replace, template)
    except (KeyError, StopIteration, TypeError, ValueError):
        return None


def normalize_logentry(value):
    """Return ``{message, params, formatted}`` from a logentry-like value."""
    if isinstance(value, str):
        return {"formatted": value} if value else None
    if not isinstance(value, dict):
        return None
    entry = {}
    template = text(value.get("message"))
    params = value.get("params")
    formatted = text(value.get("formatted"))
    if template is not None:
        entry["message"] = template
    if isinstance(params, (list, dict)) and params:
        entry["params"] = params
        if formatted is None and template is not None:
            formatted = interpolate(template, params, settings.MAX_LENGTH_MESSAGE)
    if formatted is None:
        formatted = template
    if formatted is None:
        return None
    entry["formatted"] = formatted
    return entry


# --- context interfaces ------------------------------------------------------


def _pairs_to_dict(value):
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        result = {}
        for pair in value:
            if isinstance(pair, list) and len(pair) == 2 and text(pair[0]):
                result[text(pair[0])] = pair[1]
        return result
    return None


def normalize_request(value):
    if not isinstance(value, dict) or not value:
        return None
    result = {}
    for name in ("url", "method", "fragment", "api_target"):
        item = text(value.get(name))
        if item is not None:
            result[name] = item
    for name in ("query_string", "cookies"):
        item = value.get(name)
        if isinstance(item, str):
            result[name] = item
        elif isinstance(item, (dict, list)):
            result[name] = _pairs_to_dict(item) or {}
    headers = _pairs_to_dict(value.get("headers"))
    if headers:
        result["headers"] = {
            text(name) or "": text(item) or "" for name, item in headers.items()
        }
    for name in ("data", "env", "body_size", "inferred_content_type"):
        if value.get(name) is not None:
            result[name] = value[name]
    if isinstance(result.get("data"), str):
        # A raw body: parsed when it is JSON or a form, to be scrubbed by key.
        result["data"] = parse_body(result["data"])
    return result


def normalize_user(value, client_ip=None):
    if not isinstance(value, dict):
        return None
    result = {}
    for name in USER_FIELDS:
        item = text(value.get(name))
        if item is not None:
            result[name] = item
    if result.get("ip_address") == "{{auto}}":
        if client_ip:
            result["ip_address"] = client_ip
        else:
            del result["ip_address"]
    extra = {
        key: item
        for key, item in value.items()
        if key not in USER_FIELDS and key not in ("data", "geo")
    }
    if isinstance(value.get("data"), dict):
        extra.update(value["data"])
    if extra:
        result["data"] = extra
    if isinstance(value.get("geo"), dict):
        result["geo"] = value["geo"]
    return result or None


def tag_text(value):
    if isinstance(value, (dict, list)):
        return truncate(json.dumps(value, default=str), MAX_TAG_LENGTH)
    return text(value, MAX_TAG_LENGTH)


def normalize_tags(value):
    tags = {}
    pairs = _pairs_to_dict(value) or {}
    for name, item in pairs.items():
        name = text(name, MAX_TAG_LENGTH)
        item = tag_text(item)
        if name and item is not None:
            tags[name] = item
    return tags


def normalize_breadcrumbs(value):
    crumbs = [crumb for crumb in _listed(value) if isinstance(crumb, dict)]
    for crumb in crumbs:
        crumb.setdefault("type", "default")
    return {"values": crumbs} if crumbs else None


def normalize_fingerprint(value):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return None
    parts = [tag_text(part) for part in value[:32]]
    parts = [part for part in parts if part]
    return parts or None


# --- the event ---------------------------------------------------------------


def map_event(
    payload,
    key=None,
    event_id=None,
    received=None,
    sent_at=None,
    client_ip=None,
):
    """
    Return the pipeline event for a Sentry event payload (a dict).

    ``event_id`` (the envelope header's) wins over the payload's; ``key`` is
    the :class:`~sentry.models.ProjectKey` it came with, whose label is the
    site unless ``SENTRY_INGEST_SITE`` says otherwise.
    """
    payload = dealias(payload)
    received = received or dt.datetime.now(dt.UTC)
    exceptions = normalize_exceptions(
        payload.get("exception"), normalize_stacktrace(payload.get("stacktrace"))
    )
    synthetic = synthetic_exception(exceptions)
    if synthetic is not None:
        # A message with the stack where it was sent, not an exception.
        exceptions = []
    message = payload.get("message")
    logentry = normalize_logentry(payload.get("logentry"))
    if logentry is None and isinstance(message, dict):
        logentry = normalize_logentry(message)
    message_text = text(message) if isinstance(message, (str, int, float)) else None
    if synthetic is not None and message_text is None:
        message_text = synthetic.get("value")

    if exceptions:
        title = exception_title(exceptions[-1])
    elif logentry is not None:
        title = logentry["formatted"]
    else:
        title = message_text or DEFAULT_TITLE

    data = {}
    for name, value in payload.items():
        if name in CONSUMED or name in DROPPED or value is None:
            continue
        data[name] = value
    if exceptions:
        data["exception"] = {"values": exceptions}
    elif synthetic is not None and synthetic.get("stacktrace"):
        data["stacktrace"] = synthetic["stacktrace"]
    elif payload.get("stacktrace") is not None:
        stack = normalize_stacktrace(payload.get("stacktrace"))
        if stack:
            data["stacktrace"] = stack
    if logentry is not None:
        data["logentry"] = logentry
    _normalize_interfaces(data, client_ip)

    request = data.get("request") or {}
    site = settings.INGEST_SITE or (key.label if key is not None else None)
    return {
        "message_id": normalize_message_id(
            event_id if event_id is not None else payload.get("event_id")
        ),
        "datetime": event_time(payload, received, sent_at),
        # Empty, not the classic "root": no logger is made up for an SDK
        # that names none (the column cannot be null).
        "logger": text(payload.get("logger")) or "",
        "level": _level(payload.get("level")),
        "class_name": exceptions[-1].get("type") if exceptions else None,
        "message": title,
        "traceback": traceback_text(exceptions) if exceptions else None,
        "view": culprit(payload, exceptions),
        "url": request.get("url"),
        "server_name": text(payload.get("server_name")) or UNKNOWN_SERVER,
        "site": site,
        "data": data,
        "fingerprint": normalize_fingerprint(payload.get("fingerprint")),
    }


def _level(value):
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return value
    return None


def _normalize_interfaces(data, client_ip):
    """Give the known interfaces of ``data`` their layout; drop broken ones."""
    normalizers = {
        "request": normalize_request,
        "user": lambda value: normalize_user(value, client_ip),
        "breadcrumbs": normalize_breadcrumbs,
        "threads": lambda value: _threads(value),
    }
    for name, normalize in normalizers.items():
        if name in data:
            value = normalize(data[name])
            if value is None:
                del data[name]
            else:
                data[name] = value
    tags = normalize_tags(data.get("tags"))
    for name in ("environment", "release"):
        value = text(data.get(name), MAX_TAG_LENGTH)
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
            # Filterable like any tag, as in Sentry.
            tags.setdefault(name, value)
    if tags:
        data["tags"] = tags
    else:
        data.pop("tags", None)
    for name in ("contexts", "sdk"):
        if name in data and not isinstance(data[name], dict):
            del data[name]
    if isinstance(data.get("contexts"), dict):
        data["contexts"] = {
            name: value
            for name, value in data["contexts"].items()
            if isinstance(value, dict)
        }
    if "extra" in data and not isinstance(data["extra"], dict):
        data["extra"] = {"extra": data["extra"]}
    for name in ("platform", "transaction", "dist", "type"):
        if name in data:
            value = text(data[name], 200)
            if value is None:
                del data[name]
            else:
                data[name] = value


def _threads(value):
    threads = []
    for item in _listed(value):
        if not isinstance(item, dict):
            continue
        thread = {
            name: item[name]
            for name in ("id", "name", "crashed", "current", "main")
            if isinstance(item.get(name), (str, int, bool))
        }
        stack = normalize_stacktrace(item.get("stacktrace"))
        if stack is not None:
            thread["stacktrace"] = stack
        threads.append(thread)
    return {"values": threads} if threads else None


# --- user feedback -----------------------------------------------------------

FEEDBACK_LOGGER = "feedback"
FEEDBACK_FINGERPRINT = ["user-feedback"]


def map_feedback(payload, key=None, event_id=None, received=None, client_ip=None):
    """Return the pipeline event for a ``feedback`` item (an event payload)."""
    event = map_event(
        payload, key=key, event_id=event_id, received=received, client_ip=client_ip
    )
    contexts = payload.get("contexts")
    feedback = contexts.get("feedback") if isinstance(contexts, dict) else None
    feedback = feedback if isinstance(feedback, dict) else {}
    return _as_feedback(
        event,
        comments=text(feedback.get("message")),
        name=text(feedback.get("name")),
        email=text(feedback.get("contact_email")),
        url=text(feedback.get("url")),
        associated=text(feedback.get("associated_event_id")),
    )


def user_report_id(payload):
    """
    Return the id of a legacy ``user_report`` item.

    The report names the event it is about; its own id is derived from it,
    so that the same report sent twice is stored once.
    """
    digest = hashlib.md5(usedforsecurity=False)
    parts = [text(payload.get(name)) for name in ("event_id", "name", "email")]
    for part in ("user_report", *parts, text(payload.get("comments"))):
        digest.update((part or "").encode("utf-8", "replace") + b"\0")
    return digest.hexdigest()


def map_user_report(payload, key=None, received=None):
    """Return the pipeline event for a legacy ``user_report`` item."""
    associated = text(payload.get("event_id"))
    comments = text(payload.get("comments"))
    name, email = text(payload.get("name")), text(payload.get("email"))
    event = map_event({}, key=key, event_id=user_report_id(payload), received=received)
    return _as_feedback(event, comments, name, email, None, associated)


def _as_feedback(event, comments, name, email, url, associated):
    feedback = {
        "message": comments or "",
        "name": name,
        "contact_email": email,
        "url": url,
        "associated_event_id": associated,
    }
    feedback = {k: v for k, v in feedback.items() if v is not None}
    event["data"]["feedback"] = feedback
    user = event["data"].get("user") or {}
    if email:
        user.setdefault("email", email)
    if name:
        user.setdefault("name", name)
    if user:
        event["data"]["user"] = user
    event.update(
        logger=FEEDBACK_LOGGER,
        level="info",
        class_name=None,
        traceback=None,
        message=comments or "(empty feedback)",
        view=event["view"] or "",
        fingerprint=list(FEEDBACK_FINGERPRINT),
    )
    if url:
        event["url"] = url
    if not event["message_id"]:
        event["message_id"] = new_message_id()
    return event


# --- the classic remote protocol ---------------------------------------------

REMOTE_TEXT_FIELDS = (
    "logger",
    "class_name",
    "message",
    "traceback",
    "view",
    "url",
    "server_name",
    "site",
    "checksum",
)


def map_remote_event(payload, received=None):
    """
    Return the pipeline event for an event sent by a remote django-sentry client.

    The sender prepared it already (same fields as the pipeline's events);
    it is still checked field by field, as anything from the network is.
    """
    received = received or dt.datetime.now(dt.UTC)
    event = {name: text(payload.get(name)) for name in REMOTE_TEXT_FIELDS}
    when = parse_timestamp(payload.get("datetime"))
    if when is None or not received - MAX_PAST <= when <= received + MAX_FUTURE:
        when = received
    data = payload.get("data")
    event.update(
        message_id=normalize_message_id(payload.get("message_id")),
        datetime=when,
        level=_level(payload.get("level")),
        data=data if isinstance(data, dict) else {},
        fingerprint=normalize_fingerprint(payload.get("fingerprint")),
    )
    event["view"] = event["view"] or ""
    return event
