"""
Stream filters: ``SENTRY_FILTERS`` lists them by dotted path.

A filter names a query parameter, offers its choices (read from the
``FilterValue`` table, never by scanning occurrences) and narrows a
``GroupedMessage`` queryset to the chosen value.
"""

from django.utils.module_loading import import_string

from .conf import settings
from .constants import LEVEL_NAMES, STATUS_CHOICES
from .models import FilterValue, MessageFilterValue

#: The status filter's value for "resolved or not".
ALL = "all"


class Filter:
    """Base class: subclasses set ``label`` and ``column`` and may override."""

    label = ""
    column = ""
    #: Value used when the request names none (None: no filtering).
    default = None

    def __init__(self, request):
        self.request = request
        self._choices = None

    def get_value(self):
        value = self.request.GET.get(self.column, self.default)
        return value or None

    def get_choices_cached(self):
        """Return :meth:`get_choices`, querying at most once per request."""
        # getattr: a subclass may not call this __init__.
        if getattr(self, "_choices", None) is None:
            self._choices = self.get_choices()
        return self._choices

    def get_value_label(self, value):
        """Return how ``value`` is shown among the active filters."""
        return self.get_choices_cached().get(value, value)

    def get_choices(self):
        """Return ``{value: label}`` of what can be chosen."""
        values = (
            FilterValue.objects.filter(key=self.column)
            .order_by("value")
            .values_list("value", flat=True)
        )
        return {value: value for value in values}

    def filter(self, queryset, value):
        """Return ``queryset`` narrowed to ``value``."""
        return queryset.filter(**{self.column: value})

    def apply(self, queryset):
        value = self.get_value()
        if value is None:
            return queryset
        return self.filter(queryset, value)


class StatusFilter(Filter):
    label = "Status"
    column = "status"
    default = "0"

    def get_choices(self):
        return {
            **{str(value): label for value, label in STATUS_CHOICES},
            ALL: "All",
        }

    def filter(self, queryset, value):
        if value == ALL or value not in self.get_choices():
            return queryset  # "all", or nonsense: no narrowing
        return queryset.filter(status=int(value))


class LoggerFilter(Filter):
    label = "Logger"
    column = "logger"


class LevelFilter(Filter):
    label = "Level"
    column = "level"

    def get_choices(self):
        choices = super().get_choices()
        return {
            value: LEVEL_NAMES.get(int(value), value) if value.isdigit() else value
            for value in sorted(choices, key=lambda v: int(v) if v.isdigit() else 0)
        }

    def get_value_label(self, value):
        if value.isdigit():
            return LEVEL_NAMES.get(int(value), value)
        return value

    def filter(self, queryset, value):
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(level=int(value))


class ValueFilter(Filter):
    """Groups seen at least once with a value (per-group value counters)."""

    def filter(self, queryset, value):
        seen = MessageFilterValue.objects.filter(key=self.column, value=value)
        return queryset.filter(pk__in=seen.values("group_id"))


class ServerNameFilter(ValueFilter):
    label = "Server"
    column = "server_name"


class SiteFilter(ValueFilter):
    label = "Site"
    column = "site"


def get_filters(request):
    """Return an instance of each filter in ``SENTRY_FILTERS``."""
    return [import_string(path)(request) for path in settings.FILTERS]
