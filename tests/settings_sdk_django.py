"""A small Django site instrumented with the real sentry-sdk (no django-sentry)."""

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = []
DATABASES = {}
ROOT_URLCONF = "tests.sdk_django_app"
ALLOWED_HOSTS = ["testserver"]
MIDDLEWARE = []
