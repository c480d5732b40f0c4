"""
The envelope format: a header line, then items of header line and payload.

::

    {envelope headers}\\n
    {item headers}\\n
    payload\\n                  <- per item; the last \\n is optional

An item header's ``length`` gives the payload's size in bytes; without it
the payload runs to the next newline. Headers are one-line JSON objects.

Parsing is one pass over the data: blank runs between items are skipped in
one step, and an envelope holds :data:`MAX_ITEMS` items at most (a 20 KB
gzip body can inflate to millions of tiny items, each a header to parse).
"""

import json
import re

from .responses import BadRequest, TooLarge

#: Items that carry an event and therefore the envelope's ``event_id``.
EVENT_ITEM_TYPES = frozenset({"event", "feedback", "user_report"})
#: Items in one envelope, at most. SDKs send an event and its attachments,
#: or up to 100 sessions; Relay itself caps sessions at 100 an envelope.
MAX_ITEMS = 1000

# Whitespace, newlines included: one character class, matched at a given
# position, so one pass without backtracking.
_BLANK_RE = re.compile(rb"[ \t\r\n]*")


class Item:
    """One envelope item: its headers and its payload bytes."""

    __slots__ = ("headers", "payload")

    def __init__(self, headers, payload):
        self.headers = headers
        self.payload = payload

    @property
    def type(self):
        return self.headers["type"]

    def __repr__(self):
        return f"<Item {self.type} {len(self.payload)} bytes>"


class Envelope:
    """The parsed envelope: ``headers`` (a dict) and ``items`` (a list)."""

    __slots__ = ("headers", "items")

    def __init__(self, headers, items):
        self.headers = headers
        self.items = items


def _header(line, what):
    try:
        value = json.loads(line)
    except RecursionError:
        raise BadRequest(f"malformed envelope: {what} is nested too deeply") from None
    except ValueError as exc:
        raise BadRequest(
            f"malformed envelope: {what} is not valid JSON", causes=[exc]
        ) from None
    if not isinstance(value, dict):
        raise BadRequest(f"malformed envelope: {what} is not a JSON object")
    return value


def parse_envelope_header(line):
    """Return the envelope header (a dict) in its line."""
    if not line.strip():
        raise BadRequest("malformed envelope: empty envelope header")
    return _header(line, "the envelope header")


def parse_envelope(data):
    """Return the :class:`Envelope` in ``data``; :class:`BadRequest` if malformed."""
    end = data.find(b"\n")
    if end < 0:
        end = len(data)
    headers = parse_envelope_header(data[:end])
    position = end + 1
    items = []
    size = len(data)
    while True:
        # Blank lines between items (or at the end) carry nothing.
        position = _BLANK_RE.match(data, position).end()
        if position >= size:
            break
        if len(items) >= MAX_ITEMS:
            raise TooLarge(f"more than {MAX_ITEMS} items in the envelope")
        end = data.find(b"\n", position)
        if end < 0:
            end = size
        item_headers = _header(
            data[position:end], f"the header of item {len(items) + 1}"
        )
        if not isinstance(item_headers.get("type"), str):
            raise BadRequest(f"malformed envelope: item {len(items) + 1} has no type")
        position = end + 1
        length = item_headers.get("length")
        if length is not None:
            if type(length) is not int or length < 0:
                raise BadRequest(
                    f"malformed envelope: item {len(items) + 1} has an invalid length"
                )
            if position + length > size:
                raise BadRequest(
                    f"malformed envelope: item {len(items) + 1} is truncated"
                )
            payload = data[position : position + length]
            position += length
            if position < size:
                if data[position : position + 1] != b"\n":
                    raise BadRequest(
                        f"malformed envelope: item {len(items) + 1} is longer "
                        "than its length"
                    )
                position += 1
        else:
            end = data.find(b"\n", position)
            if end < 0:
                end = size
            payload = data[position:end]
            position = end + 1
        items.append(Item(item_headers, payload))
    return Envelope(headers, items)
