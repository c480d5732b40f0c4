"""
What each key of the language means: a column, a per-group value or a date.

The per-group value counters (``MessageFilterValue``) are written by
:func:`sentry.storage.event_values`; the key names here are the ones it
writes: ``server_name``, ``site``, ``url``, ``logger``, ``level``, the user's
``user.id`` / ``user.email`` / ``user.username`` / ``user.ip`` and every SDK
tag as ``tag:<name>`` (``release`` and ``environment`` are tags).
"""

from ..tags import MAX_KEY_LENGTH, TAG_PREFIX, USER_KEYS

#: The largest level a ``PositiveIntegerField`` holds on every backend.
MAX_LEVEL = 2**31 - 1

#: Keys of the language itself (read case-insensitively).
LANGUAGE = ("is", "has", "firstseen", "lastseen")
DATES = {"firstseen": "first_seen", "lastseen": "last_seen"}
#: Keys with a name of their own, read case-insensitively -> the stored key.
NAMED = {
    "level": "level",
    "logger": "logger",
    "server": "server_name",
    "server_name": "server_name",
    "site": "site",
    "url": "url",
    **{key: key for key in USER_KEYS},
}
#: Columns of an occurrence (``Message``) a key can narrow. ``release`` and
#: ``environment`` are tags of a group, but columns of an occurrence too
#: (copied there when it is stored: sentry.occurrences).
OCCURRENCE_COLUMNS = {
    "level": "level",
    "logger": "logger",
    "server_name": "server_name",
    "site": "site",
    "url": "url",
    "release": "release",
    "environment": "environment",
}
#: Columns of a group (``GroupedMessage``): the same in every occurrence.
GROUP_COLUMNS = {"level": "level", "logger": "logger"}
#: What the "no value" error suggests writing.
EXAMPLES = {
    "environment": "production",
    "release": "1.0.0",
    "level": "error",
    "logger": "root",
    "server": "web-1",
    "server_name": "web-1",
    "site": "shop",
    "url": "https://example.com/",
    "user.id": "42",
    "user.email": "jane@example.com",
    "user.username": "jane",
    "user.ip": "203.0.113.7",
}


def canonical(key):
    """Return ``key`` lower-cased if the language names it, else as written."""
    lowered = key.lower()
    if lowered in LANGUAGE or lowered in NAMED:
        return lowered
    return key


def stored(key):
    """Return the ``MessageFilterValue.key`` a (canonical) key is counted under."""
    if key in NAMED:
        return NAMED[key]
    # Cut as storage cuts it, so a long tag name finds its rows.
    return (TAG_PREFIX + key)[:MAX_KEY_LENGTH]
