"""
Checksums that decide which occurrences are the same error.

* An exception groups by its type and its stack (module, function and source
  line of each frame, without line numbers, which move with unrelated edits),
  never by its message, which often carries ids and values.
* A text message groups by its level and its template: for a logging record,
  the unformatted ``msg``, so ``log.error("order %s failed", n)`` is one error.
* An explicit fingerprint (Sentry SDKs) wins; ``{{ default }}`` in it stands
  for the checksum the rules above would give.
"""

import hashlib
import re

# Memory addresses and similar noise in messages that have no template.
_ADDRESS_RE = re.compile(r"0x[0-9a-fA-F]{6,16}")


def _digest(parts):
    md5 = hashlib.md5(usedforsecurity=False)
    for part in parts:
        md5.update(str(part).encode("utf-8", "replace"))
        md5.update(b"\x00")
    return md5.hexdigest()


def _dict(value):
    # Shaping and scrubbing may leave a mark where a dict was (too deep, a
    # masked key): group by what is there rather than fail.
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def _frames(value):
    return [
        f
        for f in _list(_dict(value.get("stacktrace")).get("frames"))
        if isinstance(f, dict)
    ]


def frame_location(frame):
    """
    Return where a frame's code lives, as grouping and culprits name it.

    Its module when it has one (Python, Node), else its file: for a script
    loaded from a URL (browsers), only the URL's path, so that the same error
    served from two hosts, or with another cache-busting query, is one.
    """
    module = frame.get("module")
    if module:
        return str(module)
    filename = frame.get("filename") or frame.get("abs_path") or ""
    filename = str(filename)
    scheme, _, rest = filename.partition("://")
    if rest and scheme.lower() in ("http", "https"):
        path = "/" + rest.partition("/")[2]
        return path.split("?", 1)[0].split("#", 1)[0]
    return filename


def exception_parts(values):
    """Yield what identifies an exception chain: types and frames."""
    for value in values:
        yield "type"
        yield value.get("module") or ""
        yield value.get("type") or ""
        frames = _frames(value)
        in_app = [frame for frame in frames if frame.get("in_app")]
        # Only the application's frames when there are some: a library's
        # internals differ between versions but the error is the same.
        for frame in in_app or frames:
            yield frame_location(frame)
            yield frame.get("function") or ""
            context = frame.get("context_line")
            if context:
                yield context.strip()
            elif frame.get("lineno") is not None:
                yield frame["lineno"]


def chain_cause(data):
    """
    Return the type of the first cause of an exception chain, or None.

    What tells apart two errors that differ only by what caused them, in a
    list that shows one line each. Members of an exception group are not
    causes.
    """
    values = _list(_dict(_dict(data).get("exception")).get("values"))
    chain = [
        value
        for value in values
        if isinstance(value, dict)
        and not str(_dict(value.get("mechanism")).get("source", "")).startswith(
            "exceptions["
        )
    ]
    if len(chain) < 2:
        return None
    kind = chain[0].get("type")
    return kind[:128] if isinstance(kind, str) and kind else None


def default_checksum(event):
    """Return the checksum of an event by the rules of this module."""
    data = _dict(event.get("data"))
    values = [
        v
        for v in _list(_dict(data.get("exception")).get("values"))
        if isinstance(v, dict)
    ]
    if values and any(_frames(v) for v in values):
        return _digest(exception_parts(values))
    template = _dict(data.get("logentry")).get("message")
    if not isinstance(template, str) or not template:
        template = event.get("message") or ""
        if values:
            # An exception without a stack (ingested, or never raised).
            last = values[-1]
            template = f"{last.get('type')}: {last.get('value')}"
        template = _ADDRESS_RE.sub("0x?", template)
    return _digest(("text", event.get("level"), template))


def get_checksum(event):
    """Return the checksum for ``event``, honouring a fingerprint."""
    fingerprint = event.get("fingerprint")
    if fingerprint:
        parts = []
        default = None
        for part in fingerprint:
            part = str(part)
            if part.strip("{} ") == "default":
                # Once, however often it is named: each is a walk of the stack.
                if default is None:
                    default = default_checksum(event)
                part = default
            parts.append(part)
        return _digest(["fingerprint", *parts])
    return default_checksum(event)
