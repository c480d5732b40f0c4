"""
Which project an event is filed under.

Events sent with a client key go to the key's project. The site's own
errors (the in-process client, the logging handler, the queued client) and
the classic remote protocol go to ``SENTRY_PROJECT``: an id or a slug,
project 1 (the site's own, created by ``migrate``) by default.
"""

import logging
import re
import threading
import time

from django.core.management.color import no_style
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router
from django.db.models import Q
from django.dispatch import receiver
from django.utils.text import slugify

from .conf import settings
from .constants import DEFAULT_PROJECT_ID

logger = logging.getLogger("sentry.errors")

#: What a project's slug can be (Django's SlugField, at most 50 characters).
SLUG_RE = re.compile(r"[-a-zA-Z0-9_]{1,50}")
#: Seconds a process remembers what ``SENTRY_PROJECT`` names.
CACHE_SECONDS = 60

_lock = threading.Lock()
_cache = {}  # setting value -> (project id, expires)


def parse_project_setting(value):
    """
    Return ``("id", n)`` or ``("slug", s)`` for a ``SENTRY_PROJECT`` value.

    Raise ``ValueError`` for what can name no project.
    """
    if isinstance(value, bool):
        raise ValueError("SENTRY_PROJECT must be a project id or slug, not a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("SENTRY_PROJECT must be a project id >= 0 or a slug")
        return "id", value
    if isinstance(value, str) and value:
        if value.isascii() and value.isdigit():
            return "id", int(value)
        return "slug", value
    raise ValueError(f"SENTRY_PROJECT must be a project id or slug, not {value!r}")


def default_project_id():
    """
    Return the id of the project ``SENTRY_PROJECT`` names.

    Looked up once a minute at most, and not at all for project 1 (so a
    site that only sends its errors elsewhere needs no project table).
    Never raises: a setting that names no
    project files the site's errors under project 1 rather than losing
    them, and says so on the ``sentry.errors`` logger (``manage.py check``
    reports it too, as sentry.E015).
    """
    value = settings.PROJECT
    if value == DEFAULT_PROJECT_ID:
        return DEFAULT_PROJECT_ID
    now = time.monotonic()
    try:
        hashable = (type(value), value)
        cached = _cache.get(hashable)
    except TypeError:
        hashable, cached = None, None
    if cached is not None and cached[1] > now:
        return cached[0]
    try:
        project_id = lookup_project_id(value)
    except Exception:
        project_id = None
    if project_id is None:
        logger.error(
            "SENTRY_PROJECT = %r names no project: recording under project %d",
            value,
            DEFAULT_PROJECT_ID,
        )
        project_id = DEFAULT_PROJECT_ID
    if hashable is not None:
        with _lock:
            _cache[hashable] = (project_id, now + CACHE_SECONDS)
    return project_id


def lookup_project_id(value):
    """Return the id of the project ``value`` names, or ``None``."""
    from .models import Project

    kind, wanted = parse_project_setting(value)
    projects = Project.objects.all()
    if kind == "id":
        projects = projects.filter(pk=wanted)
    else:
        projects = projects.filter(slug=wanted)
    return projects.values_list("pk", flat=True).first()


def default_project_fields():
    """The name and slug project 1 is made with: ``SENTRY_SITE`` or "default"."""
    name = (settings.SITE or "default")[:200]
    return {"name": name, "slug": slugify(name)[:50] or "default"}


def ensure_default_project(using=DEFAULT_DB_ALIAS, **kwargs):
    """Make project 1 in database ``using`` if it is missing (``post_migrate``)."""
    from .models import Project

    if not router.allow_migrate_model(using, Project):
        return
    projects = Project.objects.using(using)
    try:
        if projects.filter(pk=DEFAULT_PROJECT_ID).exists():
            return
    except DatabaseError:
        # Not migrated that far (a migration test going back in time).
        return
    fields = default_project_fields()
    if projects.filter(slug=fields["slug"]).exists():
        fields["slug"] = f"{fields['slug'][:40]}-{DEFAULT_PROJECT_ID}"
    projects.create(pk=DEFAULT_PROJECT_ID, **fields)
    # An id was given: the next project made must not be given it again.
    connection = connections[using]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Project]):
            cursor.execute(statement)


@receiver(setting_changed)
def _forget(setting, **kwargs):
    if setting == "SENTRY_PROJECT":
        with _lock:
            _cache.clear()


def forget_projects(**kwargs):
    """Forget what ``SENTRY_PROJECT`` named (a project was saved or deleted)."""
    with _lock:
        _cache.clear()


def sees_every_project(user):
    """Return whether ``user`` sees every project, restricted or not (superusers)."""
    return bool(user is not None and user.is_active and user.is_superuser)


def visible_projects(user):
    """
    Return the projects ``user`` may see on the dashboard, the API and feeds.

    A project with no member groups is visible to whoever may read the
    dashboard (anonymous visitors too, under ``SENTRY_PUBLIC``); one with
    member groups only to the members of those groups, and to superusers,
    who see every project. Every page, panel, feed and API result narrows
    what it shows with this, :func:`visible_groups` or
    :func:`visible_occurrences`, so that restricting a project hides it
    everywhere at once.

    No query runs here: each of the three adds subqueries to the query it
    narrows (one small query more only when the auth tables live in another
    database than the app's, see :func:`_memberships_of`).
    """
    from .models import Project

    projects = Project.objects.all()
    if sees_every_project(user):
        return projects
    return projects.filter(_visible("pk", user, projects.db))


def visible_groups(groups, user):
    """Narrow a queryset of groups to those of projects ``user`` may see."""
    if sees_every_project(user):
        return groups
    return groups.filter(_visible("project_id", user, groups.db))


def visible_occurrences(messages, user):
    """Narrow a queryset of occurrences to those of groups ``user`` may see."""
    if sees_every_project(user):
        return messages
    return messages.filter(_visible("group__project_id", user, messages.db))


def _visible(field, user, alias):
    """Return a ``Q`` true where ``field`` (a project id) names a visible project."""
    # Subqueries on the membership table straight from the narrowed rows,
    # not through the project table: each page compiles this, and one level
    # less of nesting makes it a fraction of a millisecond instead of a few.
    from .models import Project

    memberships = Project.member_groups.through.objects.using(alias)
    visible = ~Q(**{f"{field}__in": memberships.values("project_id")})
    mine = _memberships_of(user, memberships)
    if mine is not None:
        visible |= Q(**{f"{field}__in": mine.values("project_id")})
    return visible


def _memberships_of(user, memberships):
    """
    Return the rows of ``memberships`` of ``user``'s auth groups (None: none).

    A join when the auth tables are in the same database; the user's group
    ids read first (one small query) when ``SENTRY_DATABASE_USING`` keeps the
    app's tables in a database of their own, where the auth tables are empty.
    """
    # (A custom user model without PermissionsMixin has no groups.)
    if user is None or not user.is_authenticated or not hasattr(user, "groups"):
        return None
    groups = user.groups.all()
    if groups.db == memberships.db:
        return memberships.filter(group__user=user)
    return memberships.filter(group_id__in=list(groups.values_list("pk", flat=True)))


class UnknownProject(ValueError):
    """``?project=`` names no project the user may see."""


def requested_project(request, user=None):
    """
    Return the project ``?project=<slug>`` names, or None without the parameter.

    Strict: one value, a slug written exactly as stored, of a project in
    :func:`visible_projects` for ``user`` (the request's by default).
    Raise :class:`UnknownProject` otherwise, with a message for the caller.
    One query, and none without the parameter.
    """
    values = request.GET.getlist("project")
    if not values:
        return None
    if len(values) > 1:
        raise UnknownProject("Give project once.")
    slug = values[0]
    if not SLUG_RE.fullmatch(slug):
        raise UnknownProject("project must be a project's slug.")
    user = request.user if user is None else user
    project = visible_projects(user).filter(slug=slug).first()
    if project is None:
        # Alike for a project that does not exist and one hidden from the
        # user: the answer does not say which.
        raise UnknownProject(f"No project has the slug {slug!r}.")
    return project
