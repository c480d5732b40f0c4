"""
Settings of the django-sentry example project.

A demo, not a deployment template: the secret key is public, DEBUG is on and
the database is a local SQLite file. What it shows is the wiring a real site
needs to record its errors with django-sentry:

* ``"sentry"`` (storage and dashboard) and ``"sentry.client"`` (capture of
  the exceptions that escape views) in ``INSTALLED_APPS``;
* ``sentry.client.handlers.SentryHandler`` in ``LOGGING`` for the warnings
  and errors the site logs itself;
* the dashboard's URLs, included in ``urls.py``.
"""

import os
import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# DEMO ONLY: this key is published with the code. Never reuse it anywhere.
SECRET_KEY = "demo-only-insecure-secret-key-do-not-use-in-production"

# DEBUG is off, as on a real site: a failing page shows the site's own 500
# page with the id of the recorded error (``make demo`` runs ``runserver
# --insecure`` so that the static files are still served). EXAMPLE_DEBUG=1
# turns Django's debug page back on; django-sentry then records only because
# SENTRY_TESTING is set.
DEBUG = os.environ.get("EXAMPLE_DEBUG") == "1"
SENTRY_TESTING = True

ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "sentry",
    "sentry.client",
    # The bundled plugins: the servers, sites and URLs an error was seen on.
    "sentry.plugins.sentry_servers",
    "sentry.plugins.sentry_sites",
    "sentry.plugins.sentry_urls",
    # A plugin of the project's own (example_project/browsers/).
    "browsers",
    "shop",
]

MIDDLEWARE = [
    # First, so that it sees the final response: adds X-Sentry-ID to the
    # response of a request whose error was recorded.
    "sentry.client.middleware.SentryResponseErrorIdMiddleware",
    # Records 404 responses (logger "http404", level INFO).
    "sentry.client.middleware.Sentry404CatchMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# SQLite files shared by the site and django-sentry. ``runserver`` serves
# requests from several threads and django-sentry writes its rows while the
# site's own transaction may be open, so the databases are set up for
# concurrent use: WAL lets readers and one writer work at the same time,
# IMMEDIATE takes the write lock when a transaction starts (no deadlock
# between two transactions that both read, then write), and the timeout makes
# a writer wait for the lock instead of failing with "database is locked".
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    # synchronous=NORMAL: commits survive a crashed process, not a power loss
    # (FULL for that); see docs/throughput.rst.
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
DB_PATH = Path(os.environ.get("EXAMPLE_DB_PATH") or BASE_DIR / "db.sqlite3")
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DB_PATH,
        "OPTIONS": SQLITE_OPTIONS,
    },
    # The ingest queue in a file of its own (SENTRY_QUEUE_DATABASE): events
    # sent to the ingest endpoints are accepted without waiting for the
    # digest's writes to the main file. ``migrate --database queue`` creates
    # its one table.
    "queue": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DB_PATH.with_name(DB_PATH.stem + "-queue" + DB_PATH.suffix),
        "OPTIONS": SQLITE_OPTIONS,
    },
}
SENTRY_QUEUE_DATABASE = "queue"
DATABASE_ROUTERS = ["sentry.routers.SentryRouter"]

# Events sent to the ingest endpoints are queued, then digested by a thread
# in the web process (the default, "embedded"); under load, run
# "manage.py sentry_worker" and set this to "worker" (see docs/throughput).
SENTRY_DIGEST = "embedded"

# The flood guard of django-sentry counts occurrences in this cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = True

STATIC_URL = "static/"

# How this server and this site are named on every recorded error.
# Not errors: what browsers and crawlers ask every site for (a browser opening
# the shop asks for /favicon.ico). The 404 middleware leaves these alone, as
# Django's BrokenLinkEmailsMiddleware does. Exact paths: no pattern here
# backtracks over a client's URL.
IGNORABLE_404_URLS = [
    re.compile(r"^/favicon\.ico$"),
    re.compile(r"^/robots\.txt$"),
]

SENTRY_NAME = "demo-web-1"
SENTRY_SITE = "example-shop"

# The shop's own warnings and errors go to the console and to django-sentry.
# Exceptions that escape a view are recorded by "sentry.client" through
# Django's got_request_exception signal, so "django.request" is deliberately
# not routed to the Sentry handler: that would record each of them twice.
# "sentry.errors" is where django-sentry reports that it could not record an
# error; it must never be routed to the Sentry handler itself.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "short": {"format": "%(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "short"},
        "sentry": {
            "class": "sentry.client.handlers.SentryHandler",
            "level": "WARNING",
        },
    },
    "loggers": {
        "shop": {
            "handlers": ["console", "sentry"],
            "level": "WARNING",
            "propagate": False,
        },
        "sentry.errors": {
            "handlers": ["console"],
            "level": "WARNING",
            "propagate": False,
        },
    },
}
