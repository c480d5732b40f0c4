"""Read and check the channels and rules declared in settings."""

import hashlib
import json
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..conf import settings
from ..constants import LEVELS_BY_NAME

#: Channel kinds, each delivered by the bundled plugin app named beside it.
KINDS = {
    "webhook": "sentry.plugins.sentry_webhooks",
    "slack": "sentry.plugins.sentry_slack",
    "mattermost": "sentry.plugins.sentry_mattermost",
    "discord": "sentry.plugins.sentry_discord",
    "teams": "sentry.plugins.sentry_teams",
    "mail": "sentry.plugins.sentry_mail",
}
#: What a rule's ``when`` may be when it is a word; the counted conditions
#: are dicts (``{"events": N, "minutes": M}``, ``{"reaches": N}``).
WHEN = ("new", "regression", "unmute")
#: Which kinds of rule count events (see :mod:`sentry.alerts.rules`).
COUNTED = ("frequency", "reaches")
#: The longest window of a frequency condition: a day of per-minute counts.
MAX_MINUTES = 24 * 60
#: The longest rate limit (``"every"``): 30 days, in minutes.
MAX_EVERY = 30 * 24 * 60
#: The largest flood limit (new-error messages a minute).
MAX_FLOOD_LIMIT = 10_000
#: The largest count a condition takes (what the counters hold everywhere).
MAX_COUNT = 2**31 - 1
RULE_KEYS = {"when", "channels", "project", "level", "environment", "release"}
RULE_KEYS |= {"logger", "tags", "every", "flood_limit"}
CHANNEL_KEYS = {
    "webhook": {"plugin", "url", "secret"},
    "slack": {"plugin", "url"},
    "mattermost": {"plugin", "url"},
    "discord": {"plugin", "url"},
    "teams": {"plugin", "url"},
    "mail": {"plugin", "to"},
}


logger = logging.getLogger("sentry.errors")


class ConfigError(ValueError):
    """A channel or rule that cannot be read; the message says which and why."""


_reported = set()


def usable():
    """
    Return ``(channels, rules)`` for delivering: the settings' and the saved ones.

    The saved ones (:mod:`sentry.alerts.store`) follow the declared ones.

    Settings that cannot be read are a system check error (``sentry.E020``);
    a server that runs no checks (gunicorn) learns of it here, once per
    process and problem, not once per event and plugin.
    """
    from .store import merge

    try:
        known = channels()
        declared = known, rules(known)
    except ConfigError as exc:
        declared = {}, []
        # No lock (one held at a fork would hang the child): two threads
        # may each log the same problem once.
        if str(exc) not in _reported:
            _reported.add(str(exc))
            logger.error(
                "Alerts are off: SENTRY_ALERT_CHANNELS or SENTRY_ALERT_RULES "
                "cannot be read: %s",
                exc,
            )
    # The channels and rules saved on the dashboard deliver even when the
    # settings cannot be read.
    return merge(*declared)


@dataclass(frozen=True)
class Channel:
    name: str
    kind: str
    # Out of the repr: a traceback's locals (a host's error tracker sends
    # them) must not carry the receiver's token or the signing secret.
    url: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    to: tuple = ()

    @property
    def masked_url(self):
        """Return the URL with its path and query hidden (they hold the token)."""
        if not self.url:
            return ""
        # Nor the user and password a URL may carry before its host.
        parts = urlsplit(self.url)
        if not parts.hostname:
            return "…"
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        try:
            port = f":{parts.port}" if parts.port else ""
        except ValueError:
            port = ""
        return f"{parts.scheme}://{host}{port}/…"


@dataclass(frozen=True)
class Rule:
    """
    One rule: when to send a message, and to which channels.

    ``when`` is ``"new"``, ``"regression"``, ``"unmute"``, ``"frequency"``
    (``count`` events in ``minutes`` minutes) or ``"reaches"`` (the group's
    total reaches ``count``). ``key`` names the rule in the firing table
    (:class:`sentry.alerts.state.AlertFiring`): rules from the settings get
    ``"settings:<hash of what they say>"`` (the same wherever the rule sits
    in the list), stored rules ``"db:<pk>"``.
    """

    index: int
    when: str
    channels: tuple
    project: str = ""
    level: int = 0
    environment: str = ""
    release: str = ""
    logger: str = ""
    tags: tuple = field(default_factory=tuple)
    count: int = 0
    minutes: int = 0
    #: The rate limit: at most one message per group (and kind of channel)
    #: every so many minutes; 0 for none.
    every: int = 0
    #: A ``"new"`` rule's messages a minute (per project and kind of
    #: channel) before the rest are summed up in one; ``None``: as
    #: :setting:`SENTRY_ALERT_FLOOD_LIMIT` says; 0: no limit.
    flood_limit: int | None = None
    key: str = ""

    def __post_init__(self):
        if not self.key:
            object.__setattr__(self, "key", "settings:" + self.content_hash())

    def content_hash(self):
        """Return a hash of what the rule says (not of where it is listed)."""
        content = [
            self.when,
            self.count,
            self.minutes,
            sorted(self.channels),
            self.project,
            self.level,
            self.environment,
            self.release,
            self.logger,
            [list(pair) for pair in self.tags],
        ]
        text = json.dumps(content, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def counted(self):
        """Whether the rule counts events, and so must see every one."""
        return self.when in COUNTED

    @property
    def remembers(self):
        """Whether the rule's firings are claimed (counted or rate-limited)."""
        return self.counted or bool(self.every)

    def describe(self):
        """Return what the rule waits for, in words."""
        words = self._describe_when()
        if self.every:
            words += f", at most once every {_minutes(self.every)} per error"
        return words

    def _describe_when(self):
        if self.when == "frequency":
            return f"{self.count} events of an error within {_minutes(self.minutes)}"
        if self.when == "reaches":
            return f"An error's total reaching {self.count} events"
        return {
            "new": "A new error",
            "regression": "A regression",
            "unmute": "An error unmuted by its condition",
        }[self.when]

    def reason(self):
        """Return ``(action, headline)``: why a message of this rule is sent."""
        if self.when == "frequency":
            return "frequency", f"{self.count} events within {_minutes(self.minutes)}"
        if self.when == "reaches":
            return "reaches", f"Seen {self.count} times"
        return {
            "new": ("new", "New error"),
            "regression": ("regression", "Regression"),
            "unmute": ("unmute", "Unmuted"),
        }[self.when]

    def matches(self, group, event, is_new, is_regression, is_unmuted=False):
        """Return whether this event, in this state, is one to alert about."""
        if self.when == "new" and not is_new:
            return False
        if self.when == "regression" and not is_regression:
            return False
        if self.when == "unmute" and not is_unmuted:
            return False
        # A counted condition is decided by sentry.alerts.rules: here, only
        # whether this event may count as what makes it fire.
        if self.project and group.project.slug != self.project:
            return False
        if event.level < self.level:
            return False
        if self.logger and event.logger != self.logger:
            return False
        tags = event_tags(event)
        wanted = dict(self.tags)
        if self.environment:
            wanted["environment"] = self.environment
        if self.release:
            wanted["release"] = self.release
        return all(tags.get(key) == value for key, value in wanted.items())


def _minutes(count):
    return "a minute" if count == 1 else f"{count} minutes"


def event_tags(event):
    data = event.data if isinstance(event.data, dict) else {}
    tags = data.get("tags")
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items() if v is not None}
    if isinstance(tags, list | tuple):
        pairs = [p for p in tags if isinstance(p, list | tuple) and len(p) == 2]
        return {str(k): str(v) for k, v in pairs if v is not None}
    return {}


def channels():
    """Return ``{name: Channel}`` from :setting:`SENTRY_ALERT_CHANNELS`."""
    declared = settings.ALERT_CHANNELS
    if not isinstance(declared, dict):
        raise ConfigError("SENTRY_ALERT_CHANNELS must be a dict of name: channel")
    return {name: _channel(name, spec) for name, spec in declared.items()}


def _channel(name, spec):
    where = f"channel {name!r}"
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: a channel's name must be a non-empty string")
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: must be a dict with a 'plugin'")
    kind = spec.get("plugin")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ConfigError(f"{where}: 'plugin' must be one of {', '.join(KINDS)}")
    unknown = set(spec) - CHANNEL_KEYS[kind]
    if unknown:
        raise ConfigError(
            f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}"
        )
    if kind == "mail":
        to = spec.get("to")
        if isinstance(to, str):
            to = [to]
        if not to or not all(isinstance(a, str) and "@" in a for a in to):
            raise ConfigError(f"{where}: 'to' must list e-mail addresses")
        return Channel(name, kind, to=tuple(to))
    url = spec.get("url")
    if not isinstance(url, str):
        raise ConfigError(f"{where}: 'url' must be an http or https URL")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsed on access
    except ValueError:
        # Not the URL itself: it holds the receiver's token.
        raise ConfigError(
            f"{where}: 'url' cannot be read (brackets or port out of place)"
        ) from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"{where}: 'url' must be an http or https URL")
    if not parts.hostname:
        raise ConfigError(f"{where}: 'url' has no host")
    secret = spec.get("secret", "")
    if not isinstance(secret, str):
        raise ConfigError(f"{where}: 'secret' must be a string")
    return Channel(name, kind, url=url, secret=secret)


def rules(known_channels=None):
    """Return the :class:`Rule` list from :setting:`SENTRY_ALERT_RULES`."""
    if known_channels is None:
        known_channels = channels()
    declared = settings.ALERT_RULES
    if not isinstance(declared, list | tuple):
        raise ConfigError("SENTRY_ALERT_RULES must be a list of rules")
    limit = settings.ALERT_FLOOD_LIMIT
    if (
        not isinstance(limit, int)
        or isinstance(limit, bool)
        or not 0 <= limit <= MAX_FLOOD_LIMIT
    ):
        raise ConfigError(
            "SENTRY_ALERT_FLOOD_LIMIT must be a whole number from 0 (no limit) "
            f"to {MAX_FLOOD_LIMIT} (got {limit!r})"
        )
    return [_rule(index, spec, known_channels) for index, spec in enumerate(declared)]


def _rule(index, spec, known_channels):
    where = f"rule {index}"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: must be a dict with 'when' and 'channels'")
    unknown = set(spec) - RULE_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}"
        )
    when, numbers = _when(where, spec.get("when"))
    names = spec.get("channels")
    if isinstance(names, str):
        names = [names]
    if not names or not isinstance(names, list | tuple):
        raise ConfigError(f"{where}: 'channels' must name at least one channel")
    for name in names:
        if not isinstance(name, str) or name not in known_channels:
            raise ConfigError(f"{where}: no channel named {name!r}")
    level = spec.get("level", 0)
    if isinstance(level, str):
        if level.lower() not in LEVELS_BY_NAME:
            raise ConfigError(
                f"{where}: unknown level {level!r}; use one of "
                f"{', '.join(LEVELS_BY_NAME)}"
            )
        level = LEVELS_BY_NAME[level.lower()]
    elif not isinstance(level, int) or isinstance(level, bool):
        raise ConfigError(f"{where}: 'level' must be a level name")
    texts = {}
    for key in ("project", "environment", "release", "logger"):
        value = spec.get(key, "")
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key!r} must be a string")
        texts[key] = value
    tags = spec.get("tags", {})
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        raise ConfigError(f"{where}: 'tags' must map tag names to values (strings)")
    flood_limit = None
    if spec.get("flood_limit") is not None:
        flood_limit = spec["flood_limit"]
        if when != "new":
            raise ConfigError(f"{where}: 'flood_limit' is for 'new' rules only")
        if not (type(flood_limit) is int and flood_limit == 0):
            flood_limit = _number(where, "flood_limit", flood_limit, MAX_FLOOD_LIMIT)
    every = 0
    if spec.get("every") is not None:
        every = _number(where, "every", spec["every"], MAX_EVERY)
        if when in ("new", "reaches"):
            # Either happens once to a group: a limit per group means nothing.
            raise ConfigError(
                f"{where}: 'every' limits the messages about each group, and a "
                f"{when!r} rule sends at most one per group"
            )
    return Rule(
        index,
        when,
        tuple(names),
        level=level,
        tags=tuple(sorted(tags.items())),
        every=every,
        flood_limit=flood_limit,
        **texts,
        **numbers,
    )


def _when(where, when):
    """Return ``(when, {"count": ..., "minutes": ...})`` of a rule's ``when``."""
    if isinstance(when, str) and when in WHEN:
        return when, {}
    if isinstance(when, dict) and set(when) == {"events", "minutes"}:
        count = _number(where, "events", when["events"], MAX_COUNT)
        minutes = _number(where, "minutes", when["minutes"], MAX_MINUTES)
        return "frequency", {"count": count, "minutes": minutes}
    if isinstance(when, dict) and set(when) == {"reaches"}:
        return "reaches", {"count": _number(where, "reaches", when["reaches"])}
    raise ConfigError(
        f"{where}: 'when' must be one of {', '.join(map(repr, WHEN))}, "
        '{"events": N, "minutes": M} or {"reaches": N} '
        f"(got {when!r})"
    )


def _number(where, name, value, largest=MAX_COUNT):
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{where}: {name!r} must be a whole number (got {value!r})")
    if not 1 <= value <= largest:
        raise ConfigError(
            f"{where}: {name!r} must be between 1 and {largest} (got {value})"
        )
    return value
