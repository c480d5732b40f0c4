"""
Lay an occurrence's stored ``data`` out for the templates.

``data`` comes from this site's client or from any Sentry SDK, so nothing
about its shape is trusted: every reader here accepts missing keys and values
of the wrong type and returns plain lists, tuples and strings that the
templates only have to print (they escape everything). URLs become links only
when they are ``http``/``https`` (see :func:`safe_url`).
"""

import datetime as dt
import pprint
import re
from urllib.parse import urlsplit

import simplejson

from .highlight import Highlighter

#: Lines Python prints between the exceptions of a chain.
CAUSE_LINE = "The above exception was the direct cause of the following exception:"
CONTEXT_LINE = "During handling of the above exception, another exception occurred:"
#: When the event does not say how two exceptions are linked (sentry-go,
#: sentry-ruby): Python's sentences would claim what is not known.
LINKED_LINE = "The following exception is linked to the one above:"
CHAIN_LINE_RE = re.compile(
    r"^(The above exception was the direct cause of the following exception:"
    r"|During handling of the above exception, another exception occurred:)$",
    re.MULTILINE,
)
#: ``mechanism.source`` of a chained exception -> the line before the next.
#: JavaScript SDKs name an ``Error``'s ``cause`` (an explicit cause) "cause".
SOURCES = {"__cause__": CAUSE_LINE, "cause": CAUSE_LINE, "__context__": CONTEXT_LINE}
#: Longest pretty-printed value shown in a table cell.
MAX_VALUE_LENGTH = 10_000
#: Deepest nesting of a variable laid out as an SDK's text.
MAX_DEPTH = 20
#: SDKs that send every local variable as its ``repr()`` (nested values
#: too): ``"'card_declined'"`` is the text ``'card_declined'``, not a string.
REPR_SDKS = ("sentry.python", "raven-python")
#: Request sections shown as tables, in order: (key, title).
REQUEST_TABLES = (
    ("GET", "GET"),
    ("POST", "POST"),
    ("cookies", "Cookies"),
    ("headers", "Headers"),
    ("env", "Environment"),
)
#: Keys of ``data`` shown in a section of their own (the rest is "extra").
KNOWN_KEYS = frozenset(
    {
        "exception",
        "threads",
        "stacktrace",
        "request",
        "user",
        "tags",
        "contexts",
        "breadcrumbs",
        "extra",
        "logentry",
        "release",
        "environment",
        "sdk",
        "platform",
        "fingerprint",
        "dist",
        "transaction",
        "_truncated",
    }
)


def safe_url(value):
    """Return ``value`` when it is an ``http``/``https`` URL, else None."""
    if not isinstance(value, str) or not value:
        return None
    # Browsers ignore control characters and spaces inside a scheme
    # ("java\tscript:"): refuse them outright instead of guessing.
    if any(ord(char) <= 32 or ord(char) == 127 for char in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return value


def format_value(value):
    """Return a stored value as text: strings as they are, the rest pretty."""
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, (bool, int, float)):
        text = repr(value)
    else:
        try:
            text = pprint.pformat(value, width=80, sort_dicts=False)
        except Exception:
            text = repr(value)
    if len(text) > MAX_VALUE_LENGTH:
        text = text[:MAX_VALUE_LENGTH] + "..."
    return text


def format_sdk_text(value):
    """
    Return a variable an SDK sent as text, with its texts printed once.

    sentry-python sends ``{"code": "'card_declined'", "retry": "False"}``:
    each value is already its ``repr()``. Shown as Python would print the
    dict, ``{'code': 'card_declined', 'retry': False}``, not with each text
    quoted again. Keys are names (sent as they are).
    """
    parts = []
    size = 0
    # An explicit stack of (text or value, depth): the nesting is the
    # sender's. Texts, the SDK's and the punctuation, are printed as they are.
    stack = [(value, 0)]
    while stack and size <= MAX_VALUE_LENGTH:
        item, depth = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            size += len(item)
            continue
        if isinstance(item, (dict, list)) and depth >= MAX_DEPTH:
            item = "..."
        elif isinstance(item, dict):
            todo = [("{", depth)]
            for index, (key, member) in enumerate(item.items()):
                todo += [(", " if index else "", depth), (f"{str(key)!r}: ", depth)]
                todo.append((member, depth + 1))
            todo.append(("}", depth))
            stack += reversed(todo)
            continue
        elif isinstance(item, list):
            todo = [("[", depth)]
            for index, member in enumerate(item):
                todo += [(", " if index else "", depth), (member, depth + 1)]
            todo.append(("]", depth))
            stack += reversed(todo)
            continue
        else:
            item = format_value(item)
        parts.append(item)
        size += len(item)
    text = "".join(parts)
    if stack or len(text) > MAX_VALUE_LENGTH:
        text = text[:MAX_VALUE_LENGTH] + "..."
    return text


def as_pairs(value, formatter=format_value):
    """
    Return a mapping-like value as ``[(key, text)]``, or None.

    Accepts dicts and the protocol's other spelling, lists of ``[key, value]``
    pairs.
    """
    if isinstance(value, dict):
        return [(str(key), formatter(item)) for key, item in value.items()]
    if isinstance(value, list) and all(
        isinstance(item, (list, tuple)) and len(item) == 2 for item in value
    ):
        return [(format_value(key), formatter(item)) for key, item in value]
    return None


def get_dict(data, key):
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def get_list(value, key="values"):
    """Return a protocol list: ``{"values": [...]}`` or a bare list."""
    if isinstance(value, dict):
        value = value.get(key)
    return value if isinstance(value, list) else []


def text_or_none(value):
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else format_value(value)


class Frame:
    """One stack frame, ready to print."""

    #: Whether its local variables start open (the innermost open frame's).
    vars_open = False

    def __init__(self, frame, view=None):
        view = view or View()
        self.filename = text_or_none(frame.get("filename")) or text_or_none(
            frame.get("abs_path")
        )
        self.abs_path = text_or_none(frame.get("abs_path"))
        self.module = text_or_none(frame.get("module"))
        self.function = text_or_none(frame.get("function"))
        lineno = frame.get("lineno")
        self.lineno = lineno if type(lineno) is int else None
        self.in_app = frame.get("in_app") is True
        self.context = self._context(frame)
        self.vars = as_pairs(frame.get("vars"), view.formatter) or []
        self.context_line = text_or_none(frame.get("context_line"))
        colno = frame.get("colno")
        self.colno = colno if type(colno) is int else None
        self.minified, self.sourcemap_error, self.sourcemap = _sourcemap(frame)

    def highlight(self, highlighter):
        """Show the context lines highlighted, if ``highlighter`` can."""
        lines = highlighter.lines(
            [text for _, text, _ in self.context], self.abs_path or self.filename
        )
        if lines is not None:
            self.context = [
                (lineno, html, current)
                for (lineno, _, current), html in zip(self.context, lines, strict=True)
            ]

    def _context(self, frame):
        pre = [line for line in get_list(frame.get("pre_context")) if _is_line(line)]
        post = [line for line in get_list(frame.get("post_context")) if _is_line(line)]
        line = frame.get("context_line")
        if not _is_line(line):
            return []
        first = (self.lineno - len(pre)) if self.lineno else None
        lines = [*pre, line, *post]
        return [
            (
                first + index if first is not None else None,
                text,
                index == len(pre),
            )
            for index, text in enumerate(lines)
        ]


def _sourcemap(frame):
    """Return ``(minified Frame, error, map URL)`` of a JavaScript frame."""
    resolution = frame.get("sourcemap")
    if not isinstance(resolution, dict):
        return None, None, None
    minified = resolution.get("minified")
    return (
        Frame(minified, View(highlighter=None)) if isinstance(minified, dict) else None,
        text_or_none(resolution.get("error")),
        text_or_none(resolution.get("map")),
    )


def _is_line(value):
    return isinstance(value, str)


class View:
    """How one event's frames are laid out: its SDK's and platform's ways."""

    def __init__(self, data=None, highlighter=False):
        data = data if isinstance(data, dict) else {}
        sdk = text_or_none(get_dict(data, "sdk").get("name")) or ""
        self.formatter = format_sdk_text if sdk.startswith(REPR_SDKS) else format_value
        if highlighter is False:
            highlighter = Highlighter(data.get("platform"))
        self.highlighter = highlighter


def get_frames(stacktrace, view=None):
    """
    Return a stack's frames, caller first; application frames start open.

    The innermost open frame (where it failed, in the application's code)
    also shows its variables: the ones people read first.
    """
    view = view or View()
    frames = [
        Frame(frame, view)
        for frame in get_list(stacktrace, "frames")
        if isinstance(frame, dict)
    ]
    for frame in frames:
        frame.open = frame.in_app
    if frames and not any(frame.in_app for frame in frames):
        # No application code at all: show where it failed.
        frames[-1].open = True
    for frame in reversed(frames):
        if frame.open:
            frame.vars_open = True
            break
    if view.highlighter is not None:
        # Only the frames shown open: the lexers take a few milliseconds
        # per frame, and most library frames are never opened.
        for frame in frames:
            if frame.open and frame.context:
                frame.highlight(view.highlighter)
    return frames


class ExceptionEntry:
    """One exception of a chain, with the line that leads to the next one."""

    def __init__(self, value, view=None):
        self.type = text_or_none(value.get("type"))
        self.value = text_or_none(value.get("value"))
        self.module = text_or_none(value.get("module"))
        mechanism = value.get("mechanism")
        self.mechanism = mechanism if isinstance(mechanism, dict) else {}
        stacktrace = value.get("stacktrace")
        self.frames = get_frames(stacktrace, view)
        omitted = 0
        if isinstance(stacktrace, dict):
            omitted = stacktrace.get("frames_omitted")
        self.frames_omitted = omitted if type(omitted) is int else 0
        self.link = None

    @property
    def handled(self):
        handled = self.mechanism.get("handled")
        return handled if isinstance(handled, bool) else None

    @property
    def mechanism_type(self):
        return text_or_none(self.mechanism.get("type"))

    @property
    def is_group(self):
        return self.mechanism.get("is_exception_group") is True

    @property
    def group_source(self):
        """``exceptions[i]`` when this is a member of an exception group."""
        if self.mechanism.get("parent_id") is None:
            return None
        source = self.mechanism.get("source")
        if isinstance(source, str) and source.startswith("exceptions["):
            return source
        return None

    @property
    def label(self):
        """
        Return the type with its module, as Python prints it.

        Without the module when it is Python's built-ins or the type carries
        it already (sentry-ruby: ``module: "Acc"``, ``type: "Acc::Error"``).
        """
        kind = self.type or "Exception"
        module = self.module
        if not module or module in ("builtins", "exceptions"):
            return kind
        if kind == module or kind.startswith((f"{module}::", f"{module}.")):
            return kind
        return f"{module}.{kind}"

    @property
    def title(self):
        if self.type and self.value:
            return f"{self.type}: {self.value}"
        return self.type or self.value or "Exception"

    @property
    def synthetic(self):
        """Whether this is a message sent with its stack, not an exception."""
        return self.type is None and self.mechanism.get("synthetic") is True


def get_exceptions(data, traceback_text=None, view=None):
    """Return the exception chain, oldest first, with the lines between."""
    entries = [
        ExceptionEntry(value, view)
        for value in get_list(data.get("exception"))
        if isinstance(value, dict)
    ]
    if len(entries) < 2:
        return entries
    if data.get("sdk") is not None:
        # Only this site's client (which names no SDK) wrote the traceback
        # text with Python's own lines; a foreign event's text was made
        # here, from what its SDK said.
        traceback_text = None
    links = _chain_lines(traceback_text, len(entries) - 1)
    if links is None or any(e.is_group or e.group_source for e in entries):
        links = [None] * (len(entries) - 1)
    for index, entry in enumerate(entries[:-1]):
        source = entry.mechanism.get("source")
        entry.link = SOURCES.get(source) or links[index] or LINKED_LINE
    return entries


def _chain_lines(traceback_text, count):
    """
    Return the chain lines of a plain-text traceback, oldest first.

    This site's client keeps Python's own text of the traceback, which says
    for each link whether it was ``raise ... from`` (a cause) or an error
    while handling another (a context). None when it does not fit.
    """
    if not isinstance(traceback_text, str):
        return None
    lines = CHAIN_LINE_RE.findall(traceback_text)
    return lines if len(lines) == count else None


def get_stack(data, view=None):
    """Return frames of a stack that is not an exception's (threads, legacy)."""
    frames = get_frames(data.get("stacktrace"), view)
    if frames:
        return frames
    threads = [t for t in get_list(data.get("threads")) if isinstance(t, dict)]
    threads.sort(key=lambda t: not (t.get("crashed") or t.get("current")))
    for thread in threads:
        frames = get_frames(thread.get("stacktrace"), view)
        if frames:
            return frames
    return []


class Request:
    """The HTTP request of an occurrence."""

    def __init__(self, request, url=None):
        url = request.get("url") or url
        self.url = text_or_none(url)
        self.link = safe_url(self.url)
        self.method = text_or_none(request.get("method"))
        query = request.get("query_string")
        self.query_string = query if isinstance(query, str) and query else None
        self.tables = []
        if not self.query_string and query:
            pairs = as_pairs(query)
            if pairs:
                self.tables.append(("Query string", pairs))
        for key, title in REQUEST_TABLES:
            value = request.get(key)
            if value in (None, "", {}, []):
                continue
            pairs = as_pairs(value)
            if pairs is not None:
                self.tables.append((title, pairs))
            else:
                self.tables.append((title, [("", format_value(value))]))
        body = request.get("data")
        self.body_pairs = as_pairs(body) if body not in (None, "") else None
        self.body = (
            format_value(body)
            if body not in (None, "", {}, []) and self.body_pairs is None
            else None
        )

    def __bool__(self):
        return bool(self.url or self.method or self.tables or self.body)


class Breadcrumb:
    def __init__(self, crumb):
        self.timestamp = format_timestamp(crumb.get("timestamp"))
        self.type = text_or_none(crumb.get("type")) or "default"
        self.category = text_or_none(crumb.get("category"))
        level = text_or_none(crumb.get("level"))
        self.level = level.lower() if level else None
        self.message = text_or_none(crumb.get("message"))
        data = crumb.get("data")
        self.data = as_pairs(data) or (
            [("", format_value(data))] if data not in (None, "", {}, []) else []
        )


def format_timestamp(value):
    """Return an RFC 3339 string or an epoch number as readable UTC text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            moment = dt.datetime.fromtimestamp(value, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return format_value(value)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return text_or_none(value)


class Event:
    """Everything an occurrence's page shows, read from its ``data``."""

    def __init__(self, message):
        data = message.data if isinstance(message.data, dict) else {}
        self.data = data
        view = View(data)
        self.exceptions = get_exceptions(data, message.traceback, view)
        if len(self.exceptions) == 1 and self.exceptions[0].synthetic:
            # Stored before the ingest told a message's stack from an
            # exception (the browser SDK's captureMessage): a message.
            self.stack = self.exceptions[0].frames
            self.exceptions = []
        else:
            self.stack = [] if self.exceptions else get_stack(data, view)
        self.highlighted = view.highlighter is not None and view.highlighter.used
        # Older rows or foreign events may only have the plain text.
        self.traceback = (
            message.traceback
            if message.traceback and not self.exceptions and not self.stack
            else None
        )
        self.message = message.message
        # What SENTRY_MAX_EVENT_SIZE cut from an oversized occurrence.
        truncated = data.get("_truncated")
        self.truncated = (
            [str(part) for part in truncated] if isinstance(truncated, list) else []
        )
        self.logentry = self._logentry(data)
        self.request = Request(get_dict(data, "request"), url=message.url)
        self.user = as_pairs(data.get("user")) or []
        self.tags = as_pairs(data.get("tags")) or []
        self.contexts = [
            (str(name), as_pairs(value) or [("", format_value(value))])
            for name, value in get_dict(data, "contexts").items()
        ]
        self.breadcrumbs = [
            Breadcrumb(crumb)
            for crumb in get_list(data.get("breadcrumbs"))
            if isinstance(crumb, dict)
        ]
        self.extra = self._extra(data)
        # The title says it all unless the message is longer than its first
        # line, comes from a logging template, or nothing else is shown.
        self.show_message = bool(
            self.logentry
            or "\n" in (self.message or "").strip()
            or not (self.exceptions or self.stack or self.traceback)
        )
        self.info = self._info(message, data)

    def _logentry(self, data):
        entry = get_dict(data, "logentry")
        template = text_or_none(entry.get("message"))
        params = entry.get("params")
        if not template:
            return None
        return {
            "template": template,
            "params": format_value(params) if params not in (None, [], {}) else None,
        }

    def _extra(self, data):
        extra = data.get("extra")
        pairs = as_pairs(extra)
        if pairs is None:
            pairs = [("extra", format_value(extra))] if extra is not None else []
        # Keys this page does not know about are shown rather than lost.
        pairs += [
            (str(key), format_value(value))
            for key, value in data.items()
            if key not in KNOWN_KEYS
        ]
        return pairs

    def _info(self, message, data):
        sdk = get_dict(data, "sdk")
        sdk_parts = (text_or_none(sdk.get("name")), text_or_none(sdk.get("version")))
        sdk_text = " ".join(part for part in sdk_parts if part)
        fingerprint = data.get("fingerprint")
        rows = [
            ("Occurred", _utc_text(message.datetime)),
            ("Event ID", message.message_id),
            ("Server", message.server_name),
            ("Site", message.site),
            ("Release", text_or_none(data.get("release"))),
            ("Environment", text_or_none(data.get("environment"))),
            ("Platform", text_or_none(data.get("platform"))),
            ("Transaction", text_or_none(data.get("transaction"))),
            ("SDK", sdk_text or None),
            (
                "Fingerprint",
                format_value(fingerprint) if fingerprint not in (None, []) else None,
            ),
        ]
        return [(label, value) for label, value in rows if value not in (None, "")]

    @property
    def raw(self):
        """Return the stored data as pretty JSON."""
        return pretty_json(self.data)


def _utc_text(moment):
    if not isinstance(moment, dt.datetime):
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def pretty_json(data):
    """Return ``data`` as indented JSON (pretty-printed Python if it will not go)."""
    try:
        return simplejson.dumps(
            data, indent=2, sort_keys=True, default=str, ensure_ascii=False
        )
    except Exception:
        return format_value(data)
