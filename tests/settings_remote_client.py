"""
A site that only reports: ``sentry.client`` alone, sending to a remote server.

``SENTRY_REMOTE_URL`` and ``SENTRY_KEY`` come from the environment
(``TEST_REMOTE_URL``, ``TEST_REMOTE_KEY``); no ``SENTRY_CLIENT``: setting the
URL is enough to switch to the remote client. No database at all.
"""

import os

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = ["sentry.client"]
DATABASES = {}
ROOT_URLCONF = "tests.sdk_django_app"
ALLOWED_HOSTS = ["testserver"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SENTRY_REMOTE_URL = os.environ["TEST_REMOTE_URL"].split(",")
SENTRY_KEY = os.environ["TEST_REMOTE_KEY"]
SENTRY_REMOTE_TIMEOUT = float(os.environ.get("TEST_REMOTE_TIMEOUT", "5"))
SENTRY_REMOTE_FLUSH_TIMEOUT = float(os.environ.get("TEST_REMOTE_FLUSH_TIMEOUT", "5"))
SENTRY_NAME = "remote-client"
SENTRY_SITE = "reporting-site"
