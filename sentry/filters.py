"""
Stream filters: ``SENTRY_FILTERS`` lists them by dotted path.

A filter names a query parameter, offers its choices (read from the
``FilterValue`` table, never by scanning occurrences) and narrows a
``GroupedMessage`` queryset (or, for the feeds, a ``Message`` one) to the
chosen value.

Choices are those of the projects the user may see, or of the one project
the stream is at (``?project=<slug>``): a project restricted to some auth
groups does not show its server names, sites or loggers to other staff.

Any value works in the URL, but only :attr:`Filter.max_choices` are offered:
a client that sends a new server name with every event must not grow every
stream page by an ``<option>`` each. A value that no stored row can hold
(a NUL, an over-long text, a level that is not a number) matches nothing,
without a query error.
"""

from django.utils import timezone
from django.utils.module_loading import import_string

from .conf import settings
from .constants import LEVEL_NAMES, LOG_LEVELS, STATUS_CHOICES, STATUS_UNRESOLVED
from .models import FilterValue, MessageFilterValue
from .params import can_be_stored, parse_int
from .projects import SLUG_RE, sees_every_project, visible_projects
from .workflow.mute import muted_now, not_muted_now

#: The status filter's value for "resolved or not".
ALL = "all"
#: The status filter's value for the groups muted now.
MUTED = "muted"
#: The query parameter naming one project's stream (its slug).
PROJECT = "project"
#: The largest level a ``PositiveIntegerField`` holds on every backend.
MAX_LEVEL = 2**31 - 1


class Filter:
    """Base class: subclasses set ``label`` and ``column`` and may override."""

    label = ""
    column = ""
    #: Value used when the request names none (None: no filtering).
    default = None
    #: Most values offered to choose from; past it, the stream shows a text
    #: box (with these values as suggestions) instead of a list.
    max_choices = 100
    #: Most ``FilterValue`` rows read for the choices, newest first. A value
    #: has a row per project: 20 projects can share every value and the
    #: choices still hold the newest ``max_choices + 1`` distinct ones.
    max_rows_read = (max_choices + 1) * 20
    #: Longest value a stored row can hold (``FilterValue.value``).
    max_length = 200

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
        """
        Return ``{value: label}`` of what can be chosen, sorted by value.

        At most ``max_choices + 1`` distinct values, the ones first seen most
        recently (in any of the projects offered): one more than is offered
        tells the page that there are more. One query, a bounded one: it
        reads at most :attr:`max_rows_read` rows.
        """
        # A value has a row in each project that saw it: the distinct values
        # among the newest rows, so that a page reads a bounded number of
        # rows however many values a client sent. (Made distinct here: a
        # GROUP BY in the database had PostgreSQL join the newest rows back
        # to the whole table.)
        newest = (
            self.values_offered()
            .order_by("-pk")
            .values_list("value", flat=True)[: self.max_rows_read]
        )
        values = list(dict.fromkeys(newest))[: self.max_choices + 1]
        return {value: value for value in sorted(values)}

    def values_offered(self):
        """
        Return the ``FilterValue`` rows of this key the request may be offered.

        Those of the projects the user may see (a restricted project's
        server names are not shown to others), or of the one project the
        stream is at (``?project=<slug>``). Subqueries, no query of their own.
        """
        rows = FilterValue.objects.filter(key=self.column)
        user = getattr(self.request, "user", None)
        slug = self.request.GET.get(PROJECT)
        if not slug and sees_every_project(user):
            return rows
        projects = visible_projects(user)
        if slug:
            if not SLUG_RE.fullmatch(slug):
                return rows.none()  # names no project: nothing to offer
            projects = projects.filter(slug=slug)
        return rows.filter(project_id__in=projects.values("pk"))

    def filter(self, queryset, value):
        """Return ``queryset`` narrowed to ``value``."""
        return queryset.filter(**{self.column: value})

    def filter_occurrences(self, queryset, value):
        """Return a ``Message`` queryset narrowed to ``value`` (the feeds)."""
        return queryset.filter(**{self.column: value})

    def error(self):
        """
        Return why the requested value cannot be a value of this filter, or None.

        The API answers 400 with it; the dashboard and the feeds list nothing.
        """
        return None

    def apply(self, queryset):
        """Return the groups of ``queryset`` with the requested value."""
        value = self.get_value()
        if value is None:
            return queryset
        if not can_be_stored(value, self.max_length):
            return queryset.none()
        return self.filter(queryset, value)

    def apply_to_occurrences(self, queryset):
        """Return the occurrences of ``queryset`` with the requested value."""
        value = self.get_value()
        if value is None:
            return queryset
        if not can_be_stored(value, self.max_length):
            return queryset.none()
        return self.filter_occurrences(queryset, value)


class StatusFilter(Filter):
    label = "Status"
    column = "status"
    default = "0"

    def get_choices(self):
        return {
            **{str(value): label for value, label in STATUS_CHOICES},
            MUTED: "Muted",
            ALL: "All",
        }

    def filter(self, queryset, value):
        if value == ALL or value not in self.get_choices():
            return queryset  # "all", or nonsense: no narrowing
        now = timezone.now()
        if value == MUTED:
            return queryset.filter(muted_now(now))
        if int(value) == STATUS_UNRESOLVED:
            # "Unresolved", the stream's default, is what needs attention:
            # not the muted ones (is:unresolved in a search includes them).
            return queryset.filter(not_muted_now(now), status=STATUS_UNRESOLVED)
        return queryset.filter(status=int(value))

    def filter_occurrences(self, queryset, value):
        return queryset  # occurrences have no status


class LoggerFilter(Filter):
    label = "Logger"
    column = "logger"


class LevelFilter(Filter):
    label = "Level"
    column = "level"

    def get_choices(self):
        choices = super().get_choices()
        levels = {value: parse_int(value) for value in choices}
        return {
            value: self.get_value_label(value)
            for value in sorted(choices, key=lambda v: levels[v] or 0)
        }

    def get_value_label(self, value):
        level = parse_int(value)
        return value if level is None else LEVEL_NAMES.get(level, value)

    def error(self):
        value = self.get_value()
        if value is not None and parse_int(value, maximum=MAX_LEVEL) is None:
            levels = ", ".join(f"{number} {name}" for number, name in LOG_LEVELS)
            return f"level={value[:50]!r} is not a level; use a number ({levels})."
        return None

    def filter(self, queryset, value):
        level = parse_int(value, maximum=MAX_LEVEL)
        if level is None:
            return queryset.none()  # not a level: no error has it
        return queryset.filter(level=level)

    filter_occurrences = filter


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


def get_filters(request, search=None):
    """
    Return an instance of each filter in ``SENTRY_FILTERS``.

    A ``search`` query with an ``is:`` term replaces the status filter's
    default ("unresolved"); a status named in the URL still applies.
    """
    filters = [import_string(path)(request) for path in settings.FILTERS]
    if search is not None and search.names_status:
        for stream_filter in filters:
            if stream_filter.column == "status":
                stream_filter.default = None
    return filters
