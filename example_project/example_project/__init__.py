"""A small shop whose views fail on purpose, recorded by django-sentry."""
