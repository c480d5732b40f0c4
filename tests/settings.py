"""Settings for the test suite.

``SENTRY_TEST_DB=postgresql`` runs the suite against PostgreSQL
(127.0.0.1:5432, database ``test``); the default is SQLite.
"""

import os
import tempfile

import django

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

ENGINE = os.environ.get("SENTRY_TEST_DB", "sqlite")
if ENGINE == "postgresql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("SENTRY_TEST_DB_NAME", "test"),
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
            "USER": os.environ.get("PGUSER", "postgres"),
            # One test database per run, so that parallel runs never collide.
            "TEST": {"NAME": f"test_sentry_{os.getpid()}"},
        }
    }
elif ENGINE == "sqlite":
    # A file, not memory: the concurrency tests open it from other processes.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get(
                "SENTRY_TEST_DB_NAME",
                os.path.join(tempfile.gettempdir(), "sentry-tests.db"),
            ),
            "OPTIONS": {
                "timeout": float(os.environ.get("SENTRY_TEST_SQLITE_TIMEOUT", "30")),
                # Lets SENTRY_TEST_DB_NAME be a "file:...?mode=ro" URI.
                "uri": True,
                # Set up for concurrent writers, as docs/throughput.rst says.
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "TEST": {
                "NAME": os.path.join(
                    tempfile.gettempdir(), f"sentry-tests-{os.getpid()}.sqlite3"
                )
            },
        }
    }
else:
    raise RuntimeError(f"Unknown SENTRY_TEST_DB {ENGINE!r}")

# A second database, for SENTRY_DATABASE_USING.
DATABASES["other"] = {
    **DATABASES["default"],
    "TEST": {
        "NAME": DATABASES["default"]["TEST"]["NAME"].replace("sentry", "sentry-other")
        if ENGINE == "sqlite"
        else f"test_sentry_other_{os.getpid()}"
    },
}

# A database of the queue's own, for SENTRY_QUEUE_DATABASE
# (tests/test_queue_database.py).
DATABASES["queue"] = {
    **DATABASES["default"],
    "TEST": {
        "NAME": DATABASES["default"]["TEST"]["NAME"].replace("sentry", "sentry-queue")
        if ENGINE == "sqlite"
        else f"test_sentry_queue_{os.getpid()}"
    },
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "sentry",
    "sentry.client",
    "tests.testapp",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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
STATIC_URL = "/static/"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SENTRY_TESTING = True
SENTRY_NAME = "test-server"

if django.VERSION >= (6, 1):
    # Django 6.1 configures mail through MAILERS (EMAIL_BACKEND is deprecated);
    # the test runner swaps every mailer for the in-memory one.
    MAILERS = {"default": {}}
# Accepted events are digested by the request that queued them, so that a
# test reads the rows right after posting; the background modes have tests
# of their own (tests/test_digest*.py).
SENTRY_DIGEST = os.environ.get("SENTRY_TEST_DIGEST", "inline")
# Tests create and change keys under the same public key: look them up anew.
SENTRY_INGEST_KEY_CACHE_TIMEOUT = 0
