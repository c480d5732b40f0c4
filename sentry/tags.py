"""
Tags: the ``(key, value)`` pairs an event is counted under, and who it hit.

Every write adds each event to the per-group value counters
(``MessageFilterValue``) under the pairs :func:`event_values` returns: the
columns (server, site, URL, logger, level), the event user's id, e-mail,
username and IP address (``user.id``... as the search language names them),
the tags derived from the SDK's fields (release, environment, transaction,
and browser, OS, device and runtime from its contexts) and the event's own
tags. The group page's Tags
sidebar and tab read those counters, never the occurrences.

What a client sends is bounded here, once: a key is at most
:data:`MAX_KEY_LENGTH` characters (the column's size, with its ``tag:``
prefix), a value at most :data:`MAX_VALUE_LENGTH`, and an event adds at most
:data:`MAX_TAGS` tags (the derived ones first, then its own in the order it
sent them; the rest are kept in the occurrence's data, not counted). The
work is linear in the number of tags an event carries.

:func:`user_identity` names the user an event hit (id, else e-mail, else
username, else IP address) for "users affected"; only its keyed hash is stored.
"""

from django.utils.crypto import salted_hmac

from .constants import LEVEL_NAMES
from .params import can_be_stored

#: Longest key and value kept in the value counters (their columns' sizes).
MAX_KEY_LENGTH = 32
MAX_VALUE_LENGTH = 200
#: Most tags (derived and the event's own) one event is counted under.
MAX_TAGS = 50
#: Counter keys of tags: "tag:<name>".
TAG_PREFIX = "tag:"
#: What stands for a NUL character in a text column (as in sentry.storage).
NUL_MARK = "\ufffd"

#: The counter keys of the event's columns, as the sidebar lists them.
COLUMN_KEYS = ("server_name", "site", "url", "logger", "level")
#: Counter keys an occurrence (``Message``) keeps as columns of its own; an
#: occurrence's other values are linked to it by ``OccurrenceValue`` rows.
OCCURRENCE_COLUMN_KEYS = frozenset(COLUMN_KEYS) | {"tag:release", "tag:environment"}
#: Tags derived from the SDK's fields, as the sidebar lists them.
DERIVED_TAGS = (
    "release",
    "environment",
    "transaction",
    "browser",
    "os",
    "device",
    "runtime",
)
#: Counter keys that also keep hourly counts per value (``ValueCountByHour``):
#: a stream filtered by one of their values draws each row's sparkline of
#: the events with that value. Few on purpose: each costs a row per group,
#: value and hour at every write.
TREND_KEYS = frozenset({"server_name", "site", TAG_PREFIX + "release"})
TREND_KEYS |= {TAG_PREFIX + "environment"}
#: The contexts that give a tag, and the fields that name what they describe.
CONTEXT_TAGS = {
    "browser": ("name",),
    "os": ("name",),
    "runtime": ("name",),
    "device": ("model", "family", "name"),
}
#: Counter keys of the event's user -> its field in the user interface
#: (searchable as ``user.email:...``).
USER_KEYS = {
    "user.id": "id",
    "user.email": "email",
    "user.username": "username",
    "user.ip": "ip_address",
}
#: Most contexts of one event looked at (a client may send thousands).
MAX_CONTEXTS = 20
#: The user's fields that identify them, in order of precedence.
USER_KINDS = (("id", "id"), ("email", "email"), ("username", "username"))
USER_IP_FIELD = "ip_address"


def storable(text):
    """Return ``text`` with NUL replaced (PostgreSQL's text cannot hold it)."""
    return text.replace("\x00", NUL_MARK) if "\x00" in text else text


def _text(value):
    """Return ``value`` as a tag value, or None for what is not one."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    value = str(value).strip()
    return value or None


def _context_tag(context, fields):
    """Return "<name> <version>" of a browser, OS, runtime or device context."""
    name = None
    for field in fields:
        name = _text(context.get(field))
        if name:
            break
    if name is None:
        return None
    version = _text(context.get("version"))
    return f"{name} {version}" if version else name


def derived_tags(data):
    """Return ``{name: value}`` of the tags an event's fields give."""
    tags = {}
    for name in ("release", "environment", "transaction"):
        value = _text(data.get(name))
        if value:
            tags[name] = value
    contexts = data.get("contexts")
    if isinstance(contexts, dict):
        for count, (name, context) in enumerate(contexts.items()):
            if count >= MAX_CONTEXTS:
                break
            if not isinstance(context, dict):
                continue
            kind = context.get("type") if isinstance(context.get("type"), str) else name
            if kind in CONTEXT_TAGS and kind not in tags:
                value = _context_tag(context, CONTEXT_TAGS[kind])
                if value:
                    tags[kind] = value
    return tags


def event_tag(event, name):
    """
    Return the value ``event`` is counted under for derived tag ``name``.

    What :func:`event_values` counts as ``tag:<name>`` (the event's own tag
    first, else the SDK's field), cut alike: the release and environment an
    event is said to come from everywhere (:mod:`sentry.releases`).
    """
    data = event.get("data")
    data = data if isinstance(data, dict) else {}
    tags = data.get("tags")
    value = tags.get(name) if isinstance(tags, dict) else None
    if value is None:
        value = _text(data.get(name))
    if value is None:
        return None
    return storable(str(value)[:MAX_VALUE_LENGTH]) or None


def event_values(event):
    """
    Return the ``(key, value)`` pairs an event is counted under.

    Keys are unique: two tags whose names are equal once cut to the
    column's size count under the first one. Values are cut to the
    column's size; empty values are left out.
    """
    values = {}

    def add(key, value):
        key = storable(key[:MAX_KEY_LENGTH])
        if key not in values:
            value = storable(str(value)[:MAX_VALUE_LENGTH])
            if value:
                values[key] = value

    for key in COLUMN_KEYS:
        value = event.get(key)
        if value is not None and value != "":
            add(key, value)
    data = event.get("data")
    data = data if isinstance(data, dict) else {}
    user = data.get("user")
    if isinstance(user, dict):
        for key, field in USER_KEYS.items():
            value = _text(user.get(field))
            if value:
                add(key, value)
    columns = len(values)
    tags = data.get("tags")
    tags = tags if isinstance(tags, dict) else {}
    # The event's own tag of a derived name wins (as in Sentry).
    derived = derived_tags(data)
    for name in DERIVED_TAGS:
        value = tags.get(name)
        if value is None:
            value = derived.get(name)
        if value is not None:
            add(TAG_PREFIX + name, value)
    for name, value in tags.items():
        if len(values) - columns >= MAX_TAGS:
            break
        if value is not None and name not in DERIVED_TAGS:
            add(TAG_PREFIX + str(name), value)
    return list(values.items())


def user_identity(data):
    """
    Return who an event hit, ``"<kind>:<value>"``, or None.

    The user's id, else e-mail address (lower-cased), else username, else
    IP address: the precedence Sentry uses, so that one person counts once
    however many of the fields a client fills in, as long as it fills the
    same ones every time.
    """
    user = data.get("user") if isinstance(data, dict) else None
    if not isinstance(user, dict):
        return None
    for field, kind in USER_KINDS:
        value = _text(user.get(field))
        if value:
            return f"{kind}:{value.lower() if kind == 'email' else value}"
    ip = _text(user.get(USER_IP_FIELD))
    return f"ip:{ip}" if ip else None


def identity_hash(identity):
    """
    Return the keyed hash of an identity (what is stored): HMAC-SHA256, hex.

    Keyed with the site's ``SECRET_KEY``: a plain hash of an IP address or an
    e-mail address could be reversed by trying every IPv4 address or a list
    of addresses; without the key it cannot. (A new ``SECRET_KEY`` counts
    each user once more in the groups they hit again.)
    """
    key = salted_hmac(
        "sentry.tags.identity_hash",
        identity.encode("utf-8", "surrogatepass"),
        algorithm="sha256",
    )
    return key.hexdigest()


# --- what the pages show ------------------------------------------------------

#: Search keys of the counter keys that are not tags (sentry.search's names).
SEARCH_KEYS = {"server_name": "server"}


def key_name(key):
    """Return how a counter key is shown: ``tag:environment`` -> ``environment``."""
    return key[len(TAG_PREFIX) :] if key.startswith(TAG_PREFIX) else key


def value_label(key, value):
    """Return how a counted value is shown (a level by its name)."""
    if key == "level":
        try:
            return LEVEL_NAMES.get(int(value), value)
        except ValueError:
            return value
    return value


def search_term(key, value):
    """
    Return the search term that finds the occurrences with a value.

    ``key:"value"`` in the search language (``sentry.search``): the value
    quoted, with ``\\`` and ``"`` escaped by a backslash; ``server_name`` is
    ``server``, a level is named.
    """
    name = key_name(key)
    name = SEARCH_KEYS.get(name, name)
    shown = value_label(key, value)
    quoted = str(shown).replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}:"{quoted}"'


#: The counter keys the pages list first, in this order.
KNOWN_KEYS = (
    *(TAG_PREFIX + name for name in DERIVED_TAGS[:3]),
    *USER_KEYS,
    *(TAG_PREFIX + name for name in DERIVED_TAGS[3:]),
    *COLUMN_KEYS,
)


def key_order(key):
    """Return the sort key of a counter key: the known ones first, in order."""
    if key in KNOWN_KEYS:
        return (0, KNOWN_KEYS.index(key), "")
    return (1, 0, key_name(key))


def is_valid_key(key):
    """Return whether ``key`` is one a counter row can hold."""
    return can_be_stored(key, MAX_KEY_LENGTH)
