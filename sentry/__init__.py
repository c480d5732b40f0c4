"""django-sentry: record, group and browse the errors of a Django site."""

__version__ = "2.0.0.dev0"
VERSION = (2, 0, 0, "dev0")
