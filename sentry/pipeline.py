"""
The one path every event takes, whatever its source.

    normalize -> shape & limit -> scrub -> checksum -> flood guard -> store

The in-process client, the logging handler and (later) the ingest endpoints
all build an event dict and hand it to :func:`record`.
"""

import datetime as dt
import hashlib
import logging
import math
import re
import uuid

from django.core.cache import caches

from .conf import settings
from .constants import DEFAULT_LOGGER, LEVELS_BY_NAME
from .grouping import get_checksum
from .jsondata import shape_and_scrub
from .limits import enforce_size
from .scrubbing import Scrubber
from .utils.eventdata import shape_event_data
from .utils.shaping import Shaper, to_text, truncate

logger = logging.getLogger("sentry.errors")

_HEX32_RE = re.compile(r"^[0-9a-f]{32}$")

# Column sizes of the models: longer values are cut, never rejected.
FIELD_LIMITS = {
    "logger": 64,
    "class_name": 128,
    "view": 200,
    "url": 1000,
    "server_name": 128,
    "site": 128,
}


def new_message_id():
    """Return a fresh 32-character hexadecimal id."""
    return uuid.uuid4().hex


def normalize_message_id(value):
    """Return ``value`` as 32 lowercase hex characters, or a new id."""
    if isinstance(value, str):
        candidate = value.strip().replace("-", "").lower()
        if _HEX32_RE.match(candidate):
            return candidate
    return new_message_id()


def normalize_level(value):
    """Return a logging level number for a number or a level name."""
    if isinstance(value, bool):
        return logging.ERROR
    if isinstance(value, int):
        return value if 0 <= value <= 100 else logging.ERROR
    if isinstance(value, float) and math.isfinite(value):
        return normalize_level(int(value))
    if isinstance(value, str):
        name = value.strip().lower()
        # ASCII digits: "²".isdigit() is true, and int("²") raises.
        if name.isascii() and name.isdigit():
            return normalize_level(int(name)) if len(name) <= 9 else logging.ERROR
        return LEVELS_BY_NAME.get(name, logging.ERROR)
    return logging.ERROR


def normalize_datetime(value):
    """Return an aware UTC datetime; naive values are taken as UTC."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    return dt.datetime.now(dt.UTC)


def _missing(value):
    # Never ask an arbitrary object for its truth value: it may raise.
    return value is None or (type(value) is str and not value)


def _optional_text(value, limit):
    if _missing(value):
        return None
    return truncate(to_text(value), limit)


def _text(value, default, limit):
    return truncate(to_text(default if _missing(value) else value), limit)


def _fingerprint(value):
    if isinstance(value, (list, tuple)) and value:
        return [truncate(to_text(part), 200) for part in value[:32]]
    return None


#: Text fields of an event stored as columns, scrubbed as texts.
TEXT_COLUMNS = ("logger", "class_name", "view", "server_name", "site")


def _project(value):
    # Ids come from client keys and queue rows; the site's own errors get
    # the project SENTRY_PROJECT names.
    if type(value) is int and value >= 0:
        return value
    from .projects import default_project_id

    return default_project_id()


def normalize(event):
    """Return a copy of ``event`` with every field present and well typed."""
    data = event.get("data")
    return {
        "message_id": normalize_message_id(event.get("message_id")),
        "datetime": normalize_datetime(event.get("datetime")),
        # None is the classic default; an empty logger is one an SDK did not
        # name (see sentry.ingest.mapping), kept empty.
        "logger": _text(
            DEFAULT_LOGGER if event.get("logger") is None else event["logger"],
            "",
            FIELD_LIMITS["logger"],
        ),
        "level": normalize_level(event.get("level", logging.ERROR)),
        "class_name": _optional_text(
            event.get("class_name"), FIELD_LIMITS["class_name"]
        ),
        "message": _text(event.get("message"), "", settings.MAX_LENGTH_MESSAGE),
        "traceback": _optional_text(event.get("traceback"), 10**6),
        "view": _text(event.get("view"), "", FIELD_LIMITS["view"]),
        "url": _optional_text(event.get("url"), FIELD_LIMITS["url"]),
        "server_name": _text(
            event.get("server_name"), settings.NAME or "", FIELD_LIMITS["server_name"]
        ),
        "site": _optional_text(
            settings.SITE if _missing(event.get("site")) else event["site"],
            FIELD_LIMITS["site"],
        ),
        "project": _project(event.get("project")),
        "data": data if isinstance(data, dict) else {},
        "checksum": event.get("checksum"),
        "fingerprint": _fingerprint(event.get("fingerprint")),
    }


def prepare(event, shaped=False, scrubber=None, parsed=False, shaper=None):
    """
    Return ``event`` ready to store: normalized, bounded, scrubbed, grouped.

    ``shaped`` says that ``event["data"]`` is made of bounded builtins
    already (the in-process client shapes as it captures); ``parsed``, that
    it was parsed from JSON (plain builtins, no cycles), which allows shaping
    and scrubbing it in one walk (:mod:`sentry.jsondata`). ``scrubber`` (a
    :class:`~sentry.scrubbing.Scrubber`) and ``shaper`` (a
    :class:`~sentry.utils.shaping.Shaper`) may be shared by the events of a
    batch: the scrubber remembers which keys are sensitive, and both read
    their settings once.
    """
    event = normalize(event)
    if not settings.SCRUB_DATA:
        scrubber = None
    elif scrubber is None:
        scrubber = Scrubber()
    if parsed and not shaped and scrubber is not None:
        event["data"] = shape_and_scrub(event["data"], shaper or Shaper(), scrubber)
    else:
        if not shaped:
            event["data"] = shape_event_data(event["data"], shaper)
        if scrubber is not None:
            event["data"] = scrubber(event["data"])
    if scrubber is not None:
        event["message"] = scrubber.text(event["message"])
        # Stored in columns of their own and chosen by the sender (an SDK's
        # transaction named by its URL becomes the view): texts like any.
        for name in TEXT_COLUMNS:
            if event[name]:
                event[name] = scrubber.text(event[name])
        if event["traceback"]:
            event["traceback"] = scrubber.text(event["traceback"])
        if event["url"]:
            event["url"] = scrubber({"url": event["url"]})["url"]
        # A mask can be longer than what it hides: cut to the column again.
        for name in (*TEXT_COLUMNS, "url"):
            if event[name] and len(event[name]) > FIELD_LIMITS[name]:
                event[name] = truncate(event[name], FIELD_LIMITS[name])
    checksum = event["checksum"]
    if not (isinstance(checksum, str) and _HEX32_RE.match(checksum)):
        event["checksum"] = get_checksum(event)
    # After grouping: cutting frames must not change which group it joins.
    event["data"] = enforce_size(event["data"])
    return event


def _thrash_key(event):
    ident = (
        f"{event['project']}\x00{event['logger']}\x00{event['view']}"
        f"\x00{event['checksum']}"
    )
    return (
        "sentry:thrash:"
        + hashlib.md5(ident.encode(), usedforsecurity=False).hexdigest()
    )


def check_flood(event):
    """
    Return whether this process expects the flood guard to hold ``event`` back.

    A guess from the cache named by ``SENTRY_CACHE_ALIAS`` (at most
    ``SENTRY_THRASHING_LIMIT`` per ``SENTRY_THRASHING_TIMEOUT`` seconds),
    used to skip packing what will likely not be stored. The bound itself is
    decided when the event is written, from the group's row (see
    :class:`sentry.storage.FloodGuard`), exactly across processes. A cache
    that fails guesses "no".
    """
    timeout, limit = settings.THRASHING_TIMEOUT, settings.THRASHING_LIMIT
    if not timeout or not limit:
        return False
    key = _thrash_key(event)
    try:
        cache = caches[settings.CACHE_ALIAS]
        if cache.add(key, 1, timeout):
            return False
        return cache.incr(key) > limit
    except Exception:
        return False


def last_stored(group_id, alias=None):
    """Return the ``message_id`` of the newest stored occurrence of a group."""
    from .db import get_write_alias, outside_host_transaction
    from .models import Message

    def newest(using):
        rows = Message.objects.using(using).filter(group_id=group_id)
        return (
            rows.order_by("-datetime", "-id").values_list("message_id", flat=True)
        ).first()

    return outside_host_transaction(newest, alias or get_write_alias(Message))


def record(event):
    """
    Store a prepared event and return the ``message_id`` of its stored row.

    When the flood guard holds the event back, its group is still counted
    and the id of the last stored occurrence of the same error is returned.
    """
    from . import postprocess
    from .storage import store_event

    result = store_event(event)
    postprocess.schedule([event], [result])
    if result.stored or result.duplicate or result.group_id is None:
        return result.message_id
    try:
        return last_stored(result.group_id)
    except Exception:
        logger.warning("Unable to read the last stored occurrence", exc_info=True)
        return None
