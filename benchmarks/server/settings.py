"""
Settings of the ingest server of the HTTP benchmark and the process tests.

The database comes from the environment: ``SENTRY_SERVER_DB=sqlite:/path``
(WAL, IMMEDIATE, as docs/throughput.rst recommends) or
``SENTRY_SERVER_DB=postgresql:NAME`` (127.0.0.1:5432, user postgres).
``SENTRY_SERVER_QUEUE_DB`` (same form) gives the ingest queue a database
of its own (``SENTRY_QUEUE_DATABASE``). ``SENTRY_SERVER_DIGEST`` picks
``SENTRY_DIGEST`` (default "embedded"). ``SENTRY_SERVER_CORS_ORIGINS``
(comma-separated) sets ``SENTRY_INGEST_CORS_ORIGINS`` (default: any origin).
No middleware: the ingest endpoints need none, and a site that only ingests
should not pay for sessions and CSRF on every event
(``SENTRY_SERVER_MIDDLEWARE=site`` adds the stack ``startproject`` gives).
"""

import os

SECRET_KEY = "benchmark-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]


def database(url):
    """Return the DATABASES entry of ``sqlite:/path`` or ``postgresql:NAME``."""
    kind, _, name = url.partition(":")
    if kind == "postgresql":
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "HOST": "127.0.0.1",
            "PORT": "5432",
            "USER": "postgres",
            "CONN_MAX_AGE": None,
        }
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        # Persistent connections: opening one per request costs more than
        # the request itself.
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


DATABASES = {
    "default": database(
        os.environ.get("SENTRY_SERVER_DB", "sqlite:/tmp/sentry-bench.db")
    )
}
if os.environ.get("SENTRY_SERVER_QUEUE_DB"):
    DATABASES["queue"] = database(os.environ["SENTRY_SERVER_QUEUE_DB"])
    SENTRY_QUEUE_DATABASE = "queue"
    DATABASE_ROUTERS = ["sentry.routers.SentryRouter"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "sentry",
]
MIDDLEWARE = []
if os.environ.get("SENTRY_SERVER_MIDDLEWARE") == "site":
    # What ``startproject`` gives a site: the ingest endpoints under a real
    # site's stack (benchmarks/ingest_floor.py --site-middleware).
    INSTALLED_APPS += ["django.contrib.sessions", "django.contrib.messages"]
    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
ROOT_URLCONF = "benchmarks.server.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
    }
]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SENTRY_DIGEST = os.environ.get("SENTRY_SERVER_DIGEST", "embedded")
# Every event gets its row: the flood guard would make storing look cheap.
SENTRY_THRASHING_LIMIT = 0
SENTRY_NAME = "bench"
# An ingest-only site: its own errors are not the point here.
SILENCED_SYSTEM_CHECKS = ["sentry.W001"]
SENTRY_DIGEST_CELERY_QUEUE = os.environ.get("SENTRY_SERVER_CELERY_QUEUE") or None
SENTRY_DIGEST_LEASE = float(os.environ.get("SENTRY_SERVER_DIGEST_LEASE", "60"))
SENTRY_DIGEST_BATCH_SIZE = int(os.environ.get("SENTRY_SERVER_BATCH_SIZE", "500"))
if os.environ.get("SENTRY_SERVER_CORS_ORIGINS"):
    SENTRY_INGEST_CORS_ORIGINS = os.environ["SENTRY_SERVER_CORS_ORIGINS"].split(",")

if os.environ.get("SENTRY_SERVER_CELERY_BROKER"):
    CELERY_BROKER_URL = os.environ["SENTRY_SERVER_CELERY_BROKER"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"sentry.errors": {"handlers": ["stderr"], "level": "WARNING"}},
}
