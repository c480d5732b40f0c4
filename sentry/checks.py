"""
System checks for django-sentry's settings.

Ids are stable: errors ``sentry.E0xx``, warnings ``sentry.W0xx``.
"""

import math

from django.apps import apps
from django.conf import settings as django_settings
from django.core import checks
from django.utils.module_loading import import_string

from .conf import DEFAULTS, PREFIX, settings

# Names other tools read from the same settings (sentry-sdk set-ups, for one).
KNOWN_ELSEWHERE = frozenset({"SENTRY_DSN", "SENTRY_ENVIRONMENT", "SENTRY_RELEASE"})
#: Settings that must be whole numbers of at least 1.
POSITIVE_INTEGERS = (
    "MAX_LENGTH_LIST",
    "MAX_LENGTH_STRING",
    "MAX_LENGTH_MESSAGE",
    "MAX_DEPTH",
    "REMOTE_QUEUE_SIZE",
    "INGEST_MAX_EVENT_SIZE",
    "INGEST_MAX_ENVELOPE_SIZE",
    "DIGEST_BATCH_SIZE",
    "DIGEST_MAX_ATTEMPTS",
)


@checks.register()
def check_apps(app_configs, **kwargs):
    errors = []
    if apps.is_installed("sentry") and not apps.is_installed("sentry.client"):
        errors.append(
            checks.Warning(
                "'sentry' is installed without 'sentry.client': this site's own "
                "errors are not recorded.",
                hint="Add 'sentry.client' to INSTALLED_APPS.",
                id="sentry.W001",
            )
        )
    if (
        apps.is_installed("sentry.client")
        and not apps.is_installed("sentry")
        and _stores_locally(_client_path())
    ):
        errors.append(
            checks.Error(
                "'sentry.client' stores errors in this site's database, but 'sentry' "
                "(which owns the tables) is not installed.",
                hint="Add 'sentry' to INSTALLED_APPS, or choose a client that sends "
                "errors elsewhere with SENTRY_CLIENT.",
                id="sentry.E006",
            )
        )
    for name in ("sentry_servers", "sentry_sites", "sentry_urls"):
        path = f"sentry.plugins.{name}"
        if apps.is_installed(path) and not apps.is_installed("sentry"):
            errors.append(
                checks.Error(
                    f"'{path}' needs 'sentry' in INSTALLED_APPS.",
                    id="sentry.E008",
                )
            )
    return errors


@checks.register()
def check_settings(app_configs, **kwargs):
    errors = []
    errors += _check_client()
    errors += _check_database()
    errors += _check_queue_database()
    errors += _check_numbers()
    errors += _check_cache()
    errors += _check_filters()
    errors += _check_plugins()
    errors += _check_remote()
    errors += _check_ingest()
    errors += _check_project()
    errors += _check_deployment()
    errors += _check_alerts()
    errors += _check_digest()
    errors += _check_unknown()
    return errors


def _check_plugins():
    from .plugins.registry import get_plugins

    try:
        plugins = get_plugins()
    except ImportError as exc:
        return [
            checks.Error(
                f"A plugin app names a plugin class that cannot be imported: {exc}",
                id="sentry.E010",
            )
        ]
    errors = []
    seen = {}
    for plugin in plugins:
        if not plugin.slug:
            errors.append(
                checks.Error(
                    f"Plugin {type(plugin).__qualname__} has no slug.", id="sentry.E009"
                )
            )
        elif plugin.slug in seen:
            errors.append(
                checks.Error(
                    f"Plugins {type(seen[plugin.slug]).__qualname__} and "
                    f"{type(plugin).__qualname__} both use the slug {plugin.slug!r}.",
                    hint="Give each plugin a unique slug.",
                    id="sentry.E009",
                )
            )
        seen.setdefault(plugin.slug, plugin)
    return errors


def _client_path():
    from .client.models import get_client_path

    return get_client_path()


def _check_remote():
    urls = settings.REMOTE_URL
    if not urls:
        return []
    errors = []
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, (list, tuple)):
        urls = [urls]
    for url in urls:
        if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            errors.append(
                checks.Error(
                    f"SENTRY_REMOTE_URL entry {url!r} is not an http(s) URL.",
                    hint="Use the URL of a server's store/ endpoint, e.g. "
                    "'https://errors.example.com/sentry/store/'.",
                    id="sentry.E013",
                )
            )
    if not settings.KEY:
        errors.append(
            checks.Error(
                "SENTRY_REMOTE_URL is set but SENTRY_KEY is not: the remote "
                "client cannot sign what it sends.",
                hint="Set SENTRY_KEY to the secret the central server shares.",
                id="sentry.E012",
            )
        )
    return errors


def _check_ingest():
    errors = []
    origins = settings.INGEST_CORS_ORIGINS
    if isinstance(origins, str) or not all(isinstance(o, str) for o in origins):
        errors.append(
            checks.Error(
                "SENTRY_INGEST_CORS_ORIGINS must be a list of origins "
                f"(or ['*']), not {origins!r}.",
                id="sentry.E014",
            )
        )
    return errors


def _check_alerts():
    import ipaddress

    from django.apps import apps

    from .alerts import config

    errors = []
    try:
        channels = config.channels()
        rules = config.rules(channels)
    except config.ConfigError as exc:
        errors.append(
            checks.Error(
                f"Alerts: {exc}.",
                hint="See the alerts page of the documentation.",
                id="sentry.E020",
            )
        )
        channels, rules = {}, []
    for rule in rules:
        if rule.when == "frequency" and 0 < rule.every <= rule.minutes:
            errors.append(
                checks.Warning(
                    f"Alerts: rule {rule.index}: 'every' ({rule.every} minutes) "
                    f"limits nothing: the rule fires at most once per window of "
                    f"{rule.minutes} minutes anyway.",
                    hint="Leave 'every' out, or make it longer than the window.",
                    id="sentry.W007",
                )
            )
    for channel in channels.values():
        app = config.KINDS[channel.kind]
        if channel.kind != "mail" and not apps.is_installed(app):
            errors.append(
                checks.Error(
                    f"Alerts: channel {channel.name!r} is a {channel.kind!r} "
                    f"channel, but {app} is not in INSTALLED_APPS.",
                    id="sentry.E020",
                )
            )
    networks = settings.ALERTS_ALLOWED_NETWORKS
    for text in networks if isinstance(networks, list | tuple) else [networks]:
        try:
            ipaddress.ip_network(text, strict=False)
        except (TypeError, ValueError):
            errors.append(
                checks.Error(
                    f"SENTRY_ALERTS_ALLOWED_NETWORKS: {text!r} is not a network "
                    "(write it as 127.0.0.1/32 or 10.0.0.0/8).",
                    id="sentry.E020",
                )
            )
    return errors


def _check_deployment():
    errors = []
    for name in ("RELEASE", "ENVIRONMENT"):
        value = getattr(settings, name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            errors.append(
                checks.Error(
                    f"SENTRY_{name} must be a non-empty text of at most 200 "
                    f"characters (got {value!r:.60}).",
                    hint="Leave it unset to read the environment variable of "
                    "the same name, as sentry-sdk does.",
                    id="sentry.E021",
                )
            )
    return errors


def _check_project():
    from .projects import parse_project_setting

    try:
        parse_project_setting(settings.PROJECT)
    except ValueError as exc:
        return [checks.Error(f"{exc} (got {settings.PROJECT!r}).", id="sentry.E019")]
    return []


def _check_filters():
    errors = []
    for path in settings.FILTERS:
        try:
            import_string(path)
        except ImportError as exc:
            errors.append(
                checks.Error(
                    f"SENTRY_FILTERS names {path!r}, which cannot be imported: {exc}",
                    id="sentry.E005",
                )
            )
    return errors


def _stores_locally(path):
    """Return whether the client class at ``path`` writes to this database."""
    try:
        client_class = import_string(path)
        from .client.base import SentryClient
    except ImportError:
        return False
    return (
        isinstance(client_class, type)
        and issubclass(client_class, SentryClient)
        and client_class.send is SentryClient.send
    )


def _check_client():
    path = settings.CLIENT
    try:
        client_class = import_string(path)
    except ImportError as exc:
        return [
            checks.Error(
                f"SENTRY_CLIENT {path!r} cannot be imported: {exc}",
                hint="Use 'sentry.client.base.SentryClient' or a subclass of it.",
                id="sentry.E001",
            )
        ]
    if not (
        isinstance(client_class, type) and callable(getattr(client_class, "send", None))
    ):
        return [
            checks.Error(
                f"SENTRY_CLIENT {path!r} is not a client class.",
                hint="Subclass sentry.client.base.SentryClient.",
                id="sentry.E001",
            )
        ]
    return []


def _check_database():
    alias = settings.DATABASE_USING
    if not alias:
        return []
    if alias not in django_settings.DATABASES:
        return [
            checks.Error(
                f"SENTRY_DATABASE_USING names {alias!r}, which is not in DATABASES.",
                id="sentry.E002",
            )
        ]
    if not _router_installed():
        return [
            checks.Warning(
                "SENTRY_DATABASE_USING is set but sentry.routers.SentryRouter is not "
                "in DATABASE_ROUTERS: migrations and instance saves go to 'default'.",
                hint="Add 'sentry.routers.SentryRouter' to DATABASE_ROUTERS.",
                id="sentry.W002",
            )
        ]
    return []


def _router_installed():
    return "sentry.routers.SentryRouter" in [
        r if isinstance(r, str) else f"{type(r).__module__}.{type(r).__qualname__}"
        for r in django_settings.DATABASE_ROUTERS
    ]


def _check_queue_database():
    alias = settings.QUEUE_DATABASE
    if not alias:
        return []
    if not isinstance(alias, str) or alias not in django_settings.DATABASES:
        return [
            checks.Error(
                f"SENTRY_QUEUE_DATABASE names {alias!r}, which is not in DATABASES.",
                hint="Add that database to DATABASES, or remove the setting to keep "
                "the queue with the rest.",
                id="sentry.E017",
            )
        ]
    database = django_settings.DATABASES[alias]
    name = str(database.get("NAME") or "")
    if "sqlite" in database.get("ENGINE", "") and (
        not name or ":memory:" in name or "mode=memory" in name
    ):
        return [
            checks.Error(
                f"SENTRY_QUEUE_DATABASE names {alias!r}, a SQLite database in "
                "memory: accepted events would be lost with the process, and "
                "no other process could digest them.",
                hint="Give it a file: 'NAME': BASE_DIR / 'queue.sqlite3'.",
                id="sentry.E018",
            )
        ]
    if alias not in ("default", settings.DATABASE_USING) and not _router_installed():
        return [
            checks.Warning(
                "SENTRY_QUEUE_DATABASE is set but sentry.routers.SentryRouter is not "
                "in DATABASE_ROUTERS: migrate does not create the queue's table "
                f"in {alias!r} alone, and the admin reads the queue elsewhere.",
                hint="Add 'sentry.routers.SentryRouter' to DATABASE_ROUTERS.",
                id="sentry.W005",
            )
        ]
    return []


def _check_numbers():
    errors = []
    for name in (
        "THRASHING_TIMEOUT",
        "THRASHING_LIMIT",
        "MAX_LENGTH_LIST",
        "MAX_LENGTH_STRING",
        "MAX_LENGTH_MESSAGE",
        "MAX_DEPTH",
        "MAX_FRAMES",
        "CONTEXT_LINES",
        "REMOTE_TIMEOUT",
        "MAX_EVENT_SIZE",
        "REMOTE_MAX_AGE",
        "REMOTE_QUEUE_SIZE",
        "REMOTE_FLUSH_TIMEOUT",
        "INGEST_MAX_EVENT_SIZE",
        "INGEST_MAX_ENVELOPE_SIZE",
        "DIGEST_BATCH_SIZE",
        "DIGEST_LEASE",
        "DIGEST_MAX_ATTEMPTS",
        "DIGEST_INTERVAL",
        "DIGEST_IDLE_TIMEOUT",
        "DIGEST_TASK_TIME_LIMIT",
        "QUEUE_SET_ASIDE_DAYS",
    ):
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            errors.append(
                checks.Error(
                    f"SENTRY_{name} must be a number >= 0, not {value!r}.",
                    id="sentry.E003",
                )
            )
    # None (or 0) turns the capture's time budget off.
    limit = settings.CAPTURE_TIME_LIMIT
    if limit is not None and (
        isinstance(limit, bool)
        or not isinstance(limit, (int, float))
        or not 0 <= limit < math.inf
    ):
        errors.append(
            checks.Error(
                "SENTRY_CAPTURE_TIME_LIMIT must be a number of seconds >= 0 or "
                f"None, not {limit!r}.",
                id="sentry.E003",
            )
        )
    for name in (*POSITIVE_INTEGERS, "MAX_FRAMES", "CONTEXT_LINES", "THRASHING_LIMIT"):
        value = getattr(settings, name)
        minimum = 1 if name in POSITIVE_INTEGERS else 0
        if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
            continue
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and value >= 0
        ):
            errors.append(
                checks.Error(
                    f"SENTRY_{name} must be a whole number >= {minimum}, "
                    f"not {value!r}.",
                    id="sentry.E003",
                )
            )
    return errors


def _check_cache():
    alias = settings.CACHE_ALIAS
    if settings.THRASHING_TIMEOUT and alias not in django_settings.CACHES:
        return [
            checks.Error(
                f"SENTRY_CACHE_ALIAS names {alias!r}, which is not in CACHES.",
                id="sentry.E004",
            )
        ]
    return []


def _check_digest():
    from .drain import MODES

    mode = settings.DIGEST
    if mode not in MODES:
        return [
            checks.Error(
                f"SENTRY_DIGEST must be one of {', '.join(map(repr, MODES))}, "
                f"not {mode!r}.",
                id="sentry.E015",
            )
        ]
    errors = []
    if mode == "celery":
        try:
            import celery  # noqa: F401
        except ImportError:
            errors.append(
                checks.Error(
                    "SENTRY_DIGEST is 'celery' but Celery is not installed.",
                    hint="pip install django-sentry[celery], or choose another mode.",
                    id="sentry.E016",
                )
            )
    errors += _check_sqlite()
    return errors


def _check_sqlite():
    """Warn about SQLite databases not set up for concurrent writers."""
    from .db import get_write_alias
    from .models import Message, QueuedEvent

    if settings.QUEUE_DATABASE not in (None, "", *django_settings.DATABASES):
        return []  # sentry.E017
    aliases = dict.fromkeys([get_write_alias(Message), get_write_alias(QueuedEvent)])
    return [warning for alias in aliases for warning in _check_sqlite_alias(alias)]


def _check_sqlite_alias(alias):
    database = django_settings.DATABASES.get(alias) or {}
    if "sqlite" not in database.get("ENGINE", ""):
        return []
    options = database.get("OPTIONS") or {}
    init = str(options.get("init_command") or "").replace(" ", "").lower()
    if (
        str(options.get("transaction_mode", "")).upper() == "IMMEDIATE"
        and "journal_mode=wal" in init
    ):
        return []
    return [
        checks.Warning(
            f"The SQLite database {alias!r} is not set up for concurrent writers.",
            hint="Set OPTIONS {'transaction_mode': 'IMMEDIATE', 'timeout': 20, "
            "'init_command': 'PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;'} "
            "(see the throughput page of the documentation).",
            id="sentry.W004",
        )
    ]


def _check_unknown():
    names = [
        name
        for name in dir(django_settings)
        if name.startswith(PREFIX)
        and name[len(PREFIX) :] not in DEFAULTS
        and name not in KNOWN_ELSEWHERE
    ]
    return [
        checks.Warning(
            f"{name} is not a django-sentry setting.",
            hint="Check the spelling; the settings are listed in the documentation.",
            id="sentry.W003",
        )
        for name in names
    ]


@checks.register(checks.Tags.database)
def check_saved_alert_channels(app_configs, databases=None, **kwargs):
    """
    Warn of a channel saved on the dashboard that the settings shadow.

    A database check: it runs with ``migrate`` and ``check --database``.
    The settings' channel is the one used; the saved one sends nothing.
    """
    from django.db import DatabaseError

    from .alerts import config
    from .alerts.models import AlertChannel
    from .db import get_write_alias

    alias = get_write_alias(AlertChannel)
    if not databases or alias not in databases:
        return []
    try:
        declared = list(config.channels())
    except config.ConfigError:
        return []  # sentry.E020 says why
    try:
        names = list(
            AlertChannel.objects.using(alias)
            .filter(name__in=declared)
            .values_list("name", flat=True)
        )
    except DatabaseError:
        return []  # Not migrated yet.
    return [
        checks.Warning(
            f"Alerts: the channel {name!r} saved on the dashboard sends nothing: "
            "SENTRY_ALERT_CHANNELS declares a channel of that name.",
            hint="Rename the declared channel, or delete the saved one and make "
            "it again under another name.",
            id="sentry.W008",
        )
        for name in names
    ]
