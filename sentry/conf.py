"""
Settings for django-sentry.

Every option is read from the host project's settings as ``SENTRY_<NAME>`` and
falls back to the value in :data:`DEFAULTS`. An option is looked up on its
first use and kept until a setting changes: ``override_settings`` (and every
tool that sends ``setting_changed``) just works.
"""

import socket

from django.conf import settings as django_settings
from django.core.signals import setting_changed

PREFIX = "SENTRY_"

DEFAULTS = {
    # Capture the site's errors even when DEBUG is on (meant for tests).
    "TESTING": False,
    # Database alias the app's tables live in; None means the router's choice.
    "DATABASE_USING": None,
    # Database alias the ingest queue (QueuedEvent) lives in; None: with the
    # rest. A database of its own lets accepting never wait for the digest.
    "QUEUE_DATABASE": None,
    # Days a queued event set aside as unreadable is kept (scrubbed) before
    # cleanup_sentry deletes it.
    "QUEUE_SET_ASIDE_DAYS": 7,
    # Zero what SQLite frees in the queue's database (PRAGMA secure_delete),
    # so that digested raw payloads do not stay in its file.
    "QUEUE_SECURE_DELETE": True,
    # Make a new SQLite queue database give the pages of digested events back
    # (auto_vacuum = INCREMENTAL) when the queue empties.
    "QUEUE_VACUUM": True,
    # Flood guard: at most THRASHING_LIMIT stored occurrences of one error per
    # THRASHING_TIMEOUT seconds; further ones only increment the counters.
    "THRASHING_TIMEOUT": 60,
    "THRASHING_LIMIT": 10,
    # Cache alias used by the flood guard.
    "CACHE_ALIAS": "default",
    # Dashboard filters (dotted paths); the dashboard reads this.
    "FILTERS": (
        "sentry.filters.StatusFilter",
        "sentry.filters.LoggerFilter",
        "sentry.filters.LevelFilter",
        "sentry.filters.ServerNameFilter",
        "sentry.filters.SiteFilter",
    ),
    # Shared secret for the classic Django-to-Django remote protocol.
    "KEY": None,
    # URL, or list of URLs, of central servers' ``store/`` endpoints.
    "REMOTE_URL": None,
    "REMOTE_TIMEOUT": 5,
    # Remote protocol: how far (seconds) a request's signed timestamp may be
    # from the server's clock (replay protection).
    "REMOTE_MAX_AGE": 300,
    # Remote client: events waiting to be sent at most, and how long (seconds)
    # the interpreter's exit waits for them.
    "REMOTE_QUEUE_SIZE": 1000,
    "REMOTE_FLUSH_TIMEOUT": 5,
    # Ingest endpoints: largest event (store body, envelope event item) and
    # largest envelope, in bytes, compressed or not.
    "INGEST_MAX_EVENT_SIZE": 1024 * 1024,
    "INGEST_MAX_ENVELOPE_SIZE": 20 * 1024 * 1024,
    # Ingest: the site ingested events are filed under; None: the key's label.
    "INGEST_SITE": None,
    # Ingest: seconds each process remembers a looked-up client key (0: none).
    "INGEST_KEY_CACHE_TIMEOUT": 10,
    # Ingest: origins browsers may send from ("*": any).
    "INGEST_CORS_ORIGINS": ("*",),
    # Source maps uploaded with sentry-cli (docs/ingest.rst). Bytes of one
    # chunk, and chunks in one request, as announced to sentry-cli.
    "SOURCEMAP_CHUNK_SIZE": 1024 * 1024,
    "SOURCEMAP_CHUNKS_PER_REQUEST": 16,
    # Largest artifact bundle (the zip), and the most its files may take once
    # inflated, all together and each; a file may inflate at most
    # SOURCEMAP_MAX_RATIO times its compressed size (zip bombs).
    "SOURCEMAP_MAX_BUNDLE_SIZE": 64 * 1024 * 1024,
    "SOURCEMAP_MAX_UNPACKED_SIZE": 256 * 1024 * 1024,
    "SOURCEMAP_MAX_FILE_SIZE": 32 * 1024 * 1024,
    "SOURCEMAP_MAX_RATIO": 100,
    # Files in one bundle, and bytes of its manifest.json.
    "SOURCEMAP_MAX_FILES": 2000,
    "SOURCEMAP_MAX_MANIFEST_SIZE": 2 * 1024 * 1024,
    # Bytes of chunks uploaded but not assembled yet, all tokens together.
    "SOURCEMAP_MAX_PENDING_SIZE": 256 * 1024 * 1024,
    # Seconds an uploaded chunk waits to be assembled before it is dropped.
    "SOURCEMAP_CHUNK_TTL": 3600,
    # Bytes all stored bundles may take together.
    "SOURCEMAP_MAX_STORED_SIZE": 8 * 1024 * 1024 * 1024,
    # Digest: different source maps read for one event at most.
    "SOURCEMAP_MAX_MAPS_PER_EVENT": 5,
    # Digest: bytes of parsed source maps each process keeps for the next
    # events (0: none).
    "SOURCEMAP_CACHE_SIZE": 64 * 1024 * 1024,
    # Who is mailed about new and regressed errors: a list of addresses.
    "ADMINS": (),
    # Mail only about errors of this level or worse...
    "MAIL_LEVEL": 40,
    # ...of these loggers (empty: all) and not of these (with their children).
    "MAIL_INCLUDE_LOGGERS": (),
    "MAIL_EXCLUDE_LOGGERS": ("http404",),
    "EMAIL_SUBJECT_PREFIX": "[Sentry] ",
    # Who digests the queue of accepted events: "embedded" (a thread in the
    # processes that accept them), "worker" (manage.py sentry_worker),
    # "celery" (the sentry.digest task) or "inline" (the accepting request).
    "DIGEST": "embedded",
    # Events digested per transaction.
    "DIGEST_BATCH_SIZE": 500,
    # Seconds a claimed batch is reserved for the digest that claimed it.
    "DIGEST_LEASE": 60,
    # Claims an event survives without being digested before it is set aside.
    "DIGEST_MAX_ATTEMPTS": 3,
    # Seconds between two looks at the queue while events come in (embedded),
    # and at least between two tasks sent by one process (celery).
    "DIGEST_INTERVAL": 0.5,
    # Seconds without new events after which the embedded drainer sleeps.
    "DIGEST_IDLE_TIMEOUT": 30,
    # Celery queue the digest task is sent to (None: Celery's default).
    "DIGEST_CELERY_QUEUE": None,
    # Seconds one digest task works before it hands on to a new one.
    "DIGEST_TASK_TIME_LIMIT": 20,
    # Dotted path of the client class.
    "CLIENT": "sentry.client.base.SentryClient",
    # Name of this server (default: the host name) and of this site.
    "NAME": socket.gethostname(),
    "SITE": None,
    # The project this site's own errors are filed under: an id or a slug.
    "PROJECT": 1,
    # The release and environment this site's own errors come from (None:
    # the SENTRY_RELEASE / SENTRY_ENVIRONMENT environment variables, as
    # sentry-sdk reads them; unset there too: none).
    "RELEASE": None,
    "ENVIRONMENT": None,
    # Culprit guessing: modules whose frames may name the culprit view.
    # Defaults to the project's INSTALLED_APPS when empty.
    "INCLUDE_PATHS": (),
    "EXCLUDE_PATHS": (),
    # Absolute URL prefix of the dashboard, used in notifications.
    "URL_PREFIX": "",
    # Alerts declared in settings (see the alerts page of the documentation):
    # {name: {"plugin": "webhook", "url": ...}} and a list of rules.
    "ALERT_CHANNELS": {},
    "ALERT_RULES": [],
    # New-error messages a rule sends in a minute (per project and kind of
    # channel) before it collects the rest into one summary; 0: no limit.
    "ALERT_FLOOD_LIMIT": 10,
    # Networks (CIDR strings) alerts may be sent to although they are not
    # public: loopback, private, link-local... (refused by default).
    "ALERTS_ALLOWED_NETWORKS": [],
    # Open the read-only dashboard pages to everyone.
    "PUBLIC": False,
    # Seconds between two live updates of the stream's first page (0: off).
    "POLL_INTERVAL": 10,
    # Shaping bounds for captured values.
    "MAX_LENGTH_LIST": 50,
    "MAX_LENGTH_STRING": 400,
    "MAX_DEPTH": 5,
    "MAX_FRAMES": 50,
    "CONTEXT_LINES": 5,
    # Bytes one occurrence's data may take (pickled, before compression);
    # larger ones lose their least useful parts first. 0: no limit.
    "MAX_EVENT_SIZE": 256 * 1024,
    # Characters of a message (the title of an occurrence) kept.
    "MAX_LENGTH_MESSAGE": 8192,
    # Capture local variables of each frame.
    "INCLUDE_LOCALS": True,
    # Seconds an in-process capture spends shaping values; past it, no more
    # of the site's code (__repr__...) is called and the rest is cut, marked.
    # None or 0: no limit.
    "CAPTURE_TIME_LIMIT": 0.05,
    # Mask secrets (passwords, tokens, cookies, card numbers...) before storing.
    "SCRUB_DATA": True,
    # Extra key names (case-insensitive substrings) to mask.
    "SCRUB_FIELDS": (),
    # Occurrences kept per group by ``manage.py cleanup_sentry`` (None: all);
    # times_seen keeps counting every one.
    "MAX_OCCURRENCES_PER_GROUP": None,
    # Loggers (and their children) whose records the handler leaves alone, on
    # top of "sentry" and "sentry.*", which it never records (no recursion).
    # django.request repeats what the request signal records already.
    "IGNORED_LOGGERS": ("django.request",),
}


class SentrySettings:
    """Lazy view of the ``SENTRY_*`` settings, with defaults from DEFAULTS."""

    def __getattr__(self, name):
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown django-sentry setting: {name}")
        value = getattr(django_settings, PREFIX + name, DEFAULTS[name])
        # Kept: the next read is a plain attribute. An option left to its
        # default cost a raised AttributeError inside Django's settings on
        # every read (4 us), and accepting an event reads seven.
        self.__dict__[name] = value
        return value

    def forget(self, **kwargs):
        """Drop what was read (a setting changed)."""
        self.__dict__.clear()

    def __dir__(self):
        return sorted(DEFAULTS)


settings = SentrySettings()
setting_changed.connect(settings.forget, dispatch_uid="sentry.conf.forget")
