"""
The stream's query: which groups, in which order, from the request's parameters.

The stream page, its live-update endpoint and bulk resolve all read the same
parameters through :class:`StreamQuery`, so "the rows matching the filters"
means the same thing everywhere:

* the ``SENTRY_FILTERS`` filters (status, logger, level, server, site...);
* ``since``: last seen within the last hour, day or week;
* ``q``: a query in the search language (:mod:`sentry.search`): free words
  found in the message, type, culprit or stack trace, ``key:value`` terms,
  ``is:``, ``has:``, ``firstSeen:``... A query it cannot read matches
  nothing, and :attr:`StreamQuery.search_error` says which term and why;
* ``sort``: priority (the stored score), last seen, first seen, times seen,
  users affected;
* ``environment``: one environment (else the one the user chose last,
  remembered in the session; see :mod:`sentry.releases.environments`);
* ``project``: the slug of one project (all the user may see by default).
  A slug that names no project the user may see matches nothing, so that
  "resolve all matching" never reaches past the project the page named.
"""

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property

from django.db.models import F, FilteredRelation, FloatField, Func, Q
from django.db.models.functions import Ln
from django.utils import timezone

from . import pagination
from .filters import PROJECT, get_filters
from .models import GroupedMessage, Project
from .projects import SLUG_RE, visible_groups, visible_projects
from .releases import environments
from .search import MAX_QUERY_LENGTH, SearchError, apply_to_groups, keys, parse
from .search.grammar import Match, Query
from .tags import TREND_KEYS

#: name -> (label, column, cursor kind). The first one is the default.
SORTS = {
    "priority": ("Priority", "score", "float"),
    "date": ("Last seen", "last_seen", "datetime"),
    "new": ("First seen", "first_seen", "datetime"),
    "freq": ("Times seen", "times_seen", "int"),
    "users": ("Users affected", "users", "int"),
}
DEFAULT_SORT = "priority"
#: The same sorts on a stream scoped to one value (see :class:`Scope`): the
#: value's own counters. "Users affected" is counted per error only.
SCOPED_SORTS = {
    "priority": ("scoped_score", "float"),
    "date": ("scoped_last_seen", "datetime"),
    "new": ("scoped_first_seen", "datetime"),
    "freq": ("scoped_times_seen", "int"),
}

#: name -> (label, how far back). "all" (no limit) is the default.
SINCE = {
    "1h": ("Last hour", dt.timedelta(hours=1)),
    "1d": ("Last day", dt.timedelta(days=1)),
    "1w": ("Last week", dt.timedelta(weeks=1)),
}

PAGE_SIZE = 50
MESSAGE_ID_RE = re.compile(r"^[0-9a-f]{32}$")
#: A short id as people type it: a project's slug, a dash, the number.
SHORT_ID_RE = re.compile(r"^([-a-z0-9_]{1,50})-([0-9]{1,10})$")
#: The largest number a short id column holds (a 32-bit integer everywhere).
MAX_SHORT_ID = 2**31 - 1
#: Columns a stream row needs; ``traceback`` can be large. A group's ``data``
#: is small: what the row shows beside the columns (the chain's cause).
ROW_FIELDS = (
    "id",
    "project_id",
    "logger",
    "class_name",
    "level",
    "message",
    "view",
    "status",
    "times_seen",
    "users",
    "first_seen",
    "last_seen",
    "score",
    "short_id",
    "data",
    # The "muted" badge and its condition.
    "muted",
    "muted_until",
    "muted_until_times_seen",
    "muted_until_users",
    # With the whole project row (a few short columns): rows show it, and
    # plugins read it without a query.
    "project",
)


@dataclass(frozen=True)
class Scope:
    """
    The value a filtered stream's counts are of: the first ``key:value`` term.

    ``key`` is the key as the query names it, ``stored`` the counter key
    (``tag:environment``), ``source`` the term as written. The rows' counts,
    first and last seen, priority and order are then those of the group's
    events with that value (its value counter, ``MessageFilterValue``), and
    their sparklines too for the keys that keep hourly counts per value.
    """

    key: str
    stored: str
    value: str
    source: str
    #: The query without the term: the join on the value's counter is the
    #: condition already.
    rest: object = None
    #: Whether it is the environment selector's choice (not a search term).
    from_selector: bool = False

    @property
    def has_trend(self):
        return self.stored in TREND_KEYS


class Epoch(Func):
    """Seconds since 1970 of a datetime column, as a float (priority)."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"((julianday({sql}) - 2440587.5) * 86400.0)", params

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"EXTRACT(EPOCH FROM {sql})::double precision", params

    def as_mysql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"UNIX_TIMESTAMP({sql})", params


def scope_of(search):
    """Return the :class:`Scope` of a parsed query, or None (not scoped)."""
    if search is None:
        return None
    for position, term in enumerate(search.terms):
        if (
            isinstance(term, Match)
            and term.mode == "exact"
            and not term.negated
            # The same for every event of a group: nothing to scope.
            and term.key not in keys.GROUP_COLUMNS
        ):
            rest = Query(search.terms[:position] + search.terms[position + 1 :])
            return Scope(term.key, keys.stored(term.key), term.value, term.source, rest)
    return None


def scoped(groups, scope):
    """
    Return ``groups`` that have ``scope``'s value, with its counters.

    Each row gets ``scoped_times_seen``, ``scoped_first_seen``,
    ``scoped_last_seen`` and ``scoped_score`` (the priority of
    :func:`sentry.models.get_score` over those counters): one join on the
    ``(group, key, value)`` unique index.
    """
    counter = FilteredRelation(
        "messagefiltervalue",
        condition=Q(
            messagefiltervalue__key=scope.stored,
            messagefiltervalue__value=scope.value,
        ),
    )
    return (
        groups.annotate(scope=counter)
        .filter(scope__isnull=False)
        .annotate(
            scoped_times_seen=F("scope__times_seen"),
            scoped_first_seen=F("scope__first_seen"),
            scoped_last_seen=F("scope__last_seen"),
            scoped_score=Ln(F("scope__times_seen")) * 600.0
            + Epoch(F("scope__last_seen")),
        )
    )


def as_message_id(text):
    """Return ``text`` as a 32-hex ``message_id`` if it looks like one, else None."""
    candidate = (text or "").strip().replace("-", "").lower()
    return candidate if MESSAGE_ID_RE.match(candidate) else None


def as_short_id(text):
    """Return ``(slug, number)`` if ``text`` looks like ``SHOP-12``, else None."""
    match = SHORT_ID_RE.match((text or "").strip().lower())
    if match is None:
        return None
    number = int(match[2])
    return (match[1], number) if 0 < number <= MAX_SHORT_ID else None


class StreamQuery:
    """The stream's parameters, read from a request."""

    def __init__(self, request):
        params = request.GET
        self.params = params
        self.user = request.user
        # One character past the limit: enough for the error to say so.
        self.query = (params.get("q") or "").strip()[: MAX_QUERY_LENGTH + 1]
        #: The parsed query, or None when it cannot be read ...
        self.search = None
        #: ... and then the :class:`~sentry.search.SearchError` saying why.
        self.search_error = None
        try:
            self.search = parse(self.query)
        except SearchError as exc:
            self.search_error = exc
        self.filters = get_filters(request, self.search)
        sort = params.get("sort")
        self.sort = sort if sort in SORTS else DEFAULT_SORT
        since = params.get("since")
        self.since = since if since in SINCE else None
        #: The ``project`` slug asked for ("" for all projects).
        self.project_slug = params.get(PROJECT) or ""
        #: The environment chosen (this request's, else the remembered one).
        self.environment = environments.chosen(request)

    @cached_property
    def projects(self):
        """Return the projects the user may see, by name. One query, once."""
        return list(
            visible_projects(self.user).only("id", "name", "slug").order_by("name")
        )

    @cached_property
    def project(self):
        """Return the project the ``project`` slug names, or None."""
        if not self.project_slug:
            return None
        # Compared in Python with the visible projects: the slug never
        # reaches the database, and a hidden project is as unknown as a
        # missing one.
        for project in self.projects:
            if project.slug == self.project_slug:
                return project
        return None

    @property
    def unknown_project(self):
        """Return whether a ``project`` was asked for that the user cannot see."""
        return bool(self.project_slug) and self.project is None

    @cached_property
    def scope(self):
        """
        Return the :class:`Scope` of the counts shown, or None (whole errors).

        The search's first ``key:value`` term, else the environment chosen in
        the selector: the stream of one environment counts its events.
        """
        scope = scope_of(self.search)
        if (
            scope is None
            and self.environment
            and self.search is not None
            # A value no row holds (a NUL: PostgreSQL refuses the
            # statement) is narrowed to nothing instead, unscoped.
            and environments.storable(self.environment)
        ):
            name = self.environment
            scope = Scope(
                "environment",
                environments.KEY,
                name,
                f"environment:{name}",
                rest=self.search,
                from_selector=True,
            )
        return scope

    @property
    def sort_column(self):
        if self.scope is not None and self.sort in SCOPED_SORTS:
            return SCOPED_SORTS[self.sort][0]
        return SORTS[self.sort][1]

    @property
    def sort_kind(self):
        return SORTS[self.sort][2]

    def queryset(self, now=None):
        """Return the matching groups (unordered; no query runs yet)."""
        groups = visible_groups(GroupedMessage.objects.all(), self.user)
        if self.project_slug:
            if "projects" in self.__dict__:
                # The switcher read the visible projects already.
                project = self.project
                if project is None:
                    return groups.none()
                groups = groups.filter(project_id=project.pk)
            elif SLUG_RE.fullmatch(self.project_slug):
                # No query of its own (live updates): a subquery, and the
                # groups are narrowed to visible projects already.
                groups = groups.filter(
                    project_id__in=Project.objects.filter(
                        slug=self.project_slug
                    ).values("pk")
                )
            else:
                return groups.none()
        for stream_filter in self.filters:
            groups = stream_filter.apply(groups)
        if self.since:
            now = now or timezone.now()
            groups = groups.filter(last_seen__gte=now - SINCE[self.since][1])
        scope = self.scope
        if self.environment and not (scope and scope.from_selector):
            # (A scope of the environment joins its counters: that narrows.)
            groups = environments.narrow(groups, self.environment)
        if self.search_error is not None:
            return groups.none()  # unread: nothing, and the page says why
        if self.scope is not None:
            return scoped(apply_to_groups(groups, self.scope.rest), self.scope)
        return apply_to_groups(groups, self.search)

    def page(self, page_size=PAGE_SIZE, first=False):
        """
        Return the requested :class:`~sentry.pagination.Page`. One query.

        ``first=True`` ignores the request's cursors (live updates only ever
        redraw the first page).
        """
        return pagination.paginate(
            self.queryset().select_related("project").only(*ROW_FIELDS),
            self.sort_column,
            self.sort_kind,
            self.state() if first else self.params,
            page_size,
        )

    def state(self, *, with_cursor=False):
        """
        Return the parameters that define the result, as a ``QueryDict``.

        Cursors are left out unless asked for, so that links built from it
        (sorts, filters, the live-update URL) start on the first page.
        """
        state = self.params.copy()
        if not with_cursor:
            for name in (pagination.AFTER, pagination.BEFORE):
                state.pop(name, None)
        return state

    def url_without(self, *names):
        """Return the query string without ``names`` (and without cursors)."""
        state = self.state()
        for name in names:
            state.pop(name, None)
        return state.urlencode()

    def url_with(self, **values):
        """Return the query string with ``values`` set (and without cursors)."""
        state = self.state()
        for name, value in values.items():
            state[name] = value
        return state.urlencode()

    def active(self):
        """Return the narrowing choices in force: ``[(label, value, clear_url)]``."""
        active = []
        if self.project_slug:
            label = self.project.name if self.project else self.project_slug
            active.append(("Project", label, self.url_without(PROJECT)))
        for stream_filter in self.filters:
            value = stream_filter.get_value()
            if value is None or value == stream_filter.default:
                continue
            active.append(
                (
                    stream_filter.label,
                    stream_filter.get_value_label(value),
                    self.url_without(stream_filter.column),
                )
            )
        if self.since:
            active.append(("Seen", SINCE[self.since][0], self.url_without("since")))
        if self.environment:
            # Cleared with an empty value: the remembered choice goes too.
            clear = self.url_with(**{environments.PARAMETER: ""})
            active.append(("Environment", self.environment, clear))
        if self.query:
            active.append(("Search", self.query, self.url_without("q")))
        return active
