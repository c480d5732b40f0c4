"""
A project's settings page, and the page that creates a project.

Opening and saving a project's settings needs ``sentry.change_project``,
creating one ``sentry.add_project`` (superusers have both). The page edits
the name, slug, platform, rate limit and retention, and lists the
project's keys with their DSNs; the keys themselves are managed on the
project's set-up page (:mod:`sentry.views.setup`). Projects are never
deleted here (the admin does it, and refuses project 1).

A project the user may not see (:func:`sentry.projects.visible_projects`)
is a 404, as is an unknown slug. Forms are POSTed with a CSRF token; a
saved form redirects to the project's own settings page, never to an
address taken from the request.
"""

import re

from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from ..constants import MAX_RETENTION_DAYS
from ..db import get_write_alias
from ..ingest.keys import ProjectKey
from ..models import Project
from ..params import can_be_stored, parse_int
from ..projects import visible_projects
from .access import (
    can_add_keys,
    can_add_projects,
    can_change_keys,
    can_change_projects,
    dashboard_view,
)
from .setup import Invalid, read_rate_limit

ADD = "Creating a project needs the sentry.add_project permission."
CHANGE = "Changing a project's settings needs the sentry.change_project permission."

NAME_MAX_LENGTH = Project._meta.get_field("name").max_length
SLUG_MAX_LENGTH = Project._meta.get_field("slug").max_length
PLATFORM_MAX_LENGTH = Project._meta.get_field("platform").max_length

#: A new slug: lowercase ASCII letters, digits, hyphens and underscores (as
#: ``slugify`` makes them), starting with a letter or a digit.
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
#: Slugs that would read as a page of their own under ``projects/``.
RESERVED_SLUGS = frozenset({"new", "settings", "all"})
#: A platform, as Sentry names them: ``python``, ``javascript-react``, ...
PLATFORM = re.compile(r"[a-z0-9][a-z0-9._-]*")

#: Offered as the platform field's suggestions (any other may be typed).
SUGGESTED_PLATFORMS = ("python", "javascript", "node", "go", "ruby", "php", "java")

#: What the settings page says after a save (``?done=<action>``).
DONE = {
    "created": "Project created. Give it a client key on its set-up page.",
    "saved": "Settings saved.",
}

FIELDS = ("name", "slug", "platform", "rate_limit", "retention_days")


# --- pages --------------------------------------------------------------------


@dashboard_view(allow=can_add_projects, reason=ADD)
@require_http_methods(["GET", "POST"])
@csrf_protect
def new_project(request):
    """Show the form for a new project; create it from the POSTed form."""
    if request.method != "POST":
        return render(request, None, form={}, status=200)
    fields, errors = read_form(request.POST, project=None)
    if not errors:
        project = Project(**fields)
        errors = save(project)
    if errors:
        return render(request, None, form=request.POST, errors=errors, status=400)
    return done(project, "created")


@dashboard_view(allow=can_change_projects, reason=CHANGE)
@require_http_methods(["GET", "POST"])
@csrf_protect
def project_settings(request, project_slug):
    """Show a project's settings; save them from the POSTed form."""
    project = visible_projects(request.user).filter(slug=project_slug).first()
    if project is None:
        raise Http404("No such project.")
    if request.method != "POST":
        form = {name: getattr(project, name) for name in FIELDS}
        return render(request, project, form=form, status=200)
    fields, errors = read_form(request.POST, project=project)
    if not errors:
        for name, value in fields.items():
            setattr(project, name, value)
        errors = save(project)
    if errors:
        # The page shows the project as stored, the form as typed.
        project.refresh_from_db()
        return render(request, project, form=request.POST, errors=errors, status=400)
    return done(project, "saved")


def render(request, project, *, form, errors=None, status):
    """Render the settings page of ``project`` (``None``: the new-project page)."""
    keys = []
    if project is not None:
        keys = list(ProjectKey.objects.filter(project=project))
        for key in keys:
            # The public DSN only: a secret is never displayed.
            key.dsn_here = key.get_dsn(request=request)
    return TemplateResponse(
        request,
        "sentry/project_settings.html",
        {
            "project": project,
            "keys": keys,
            "form": form,
            "errors": errors or {},
            "done": DONE.get(request.GET.get("done", ""), "") if project else "",
            "platforms": SUGGESTED_PLATFORMS,
            "can_add_keys": can_add_keys(request.user),
            "can_change_keys": can_change_keys(request.user),
            "name_max_length": NAME_MAX_LENGTH,
            "slug_max_length": SLUG_MAX_LENGTH,
            "platform_max_length": PLATFORM_MAX_LENGTH,
            "max_retention_days": MAX_RETENTION_DAYS,
        },
        status=status,
    )


def save(project):
    """Save ``project``; return the form's errors (a slug taken meanwhile)."""
    try:
        with transaction.atomic(using=get_write_alias(Project)):
            project.save()
    except IntegrityError:
        return {"slug": taken(project.slug)}
    return {}


def done(project, action):
    """Redirect to the project's settings page, which says what was done."""
    # Always our own page: no address taken from the request (no open redirect).
    url = reverse("sentry:project-settings", args=[project.slug])
    return HttpResponseRedirect(f"{url}?done={action}")


# --- form values --------------------------------------------------------------


def read_form(data, project):
    """Return ``(fields, errors)`` read from ``data``; ``project`` is the one edited."""
    fields, errors = {}, {}
    readers = (
        ("name", read_name),
        ("slug", lambda text: read_slug(text, data.get("name", ""), project)),
        ("platform", read_platform),
        ("rate_limit", read_rate_limit),
        ("retention_days", read_retention),
    )
    for name, read in readers:
        try:
            fields[name] = read(data.get(name, ""))
        except Invalid as exc:
            errors[name] = str(exc)
    return fields, errors


def read_name(text):
    """Return a project's name: trimmed, 1 to 200 printable characters."""
    name = text.strip()
    if not name:
        raise Invalid("Give the project a name (the service it is, e.g. Shop).")
    if len(name) > NAME_MAX_LENGTH:
        raise Invalid(f"A name has at most {NAME_MAX_LENGTH} characters.")
    if not can_be_stored(name) or not name.isprintable():
        raise Invalid("A name cannot contain control characters.")
    return name


def read_slug(text, name, project):
    """
    Return a project's slug: lowercase letters, digits and hyphens, unused.

    Empty, it is made from the name (as the admin suggests it). The
    project's own slug is kept as it is, even one the admin allowed that a
    new slug could not be (capitals).
    """
    slug = text.strip() or slugify(name.strip()[:NAME_MAX_LENGTH])[:SLUG_MAX_LENGTH]
    if project is not None and slug == project.slug:
        return slug
    if not slug:
        raise Invalid("Give the project a slug: lowercase letters, digits, hyphens.")
    if len(slug) > SLUG_MAX_LENGTH:
        raise Invalid(f"A slug has at most {SLUG_MAX_LENGTH} characters.")
    if not SLUG.fullmatch(slug):
        raise Invalid(
            "A slug is lowercase ASCII letters, digits, hyphens and "
            "underscores, starting with a letter or a digit (e.g. billing-worker)."
        )
    if slug in RESERVED_SLUGS:
        raise Invalid(f"“{slug}” names a page: choose another slug.")
    others = Project.objects.filter(slug=slug)
    if project is not None:
        others = others.exclude(pk=project.pk)
    if others.exists():
        raise Invalid(taken(slug))
    return slug


def taken(slug):
    return f"Another project has the slug “{slug}”: choose another one."


def read_platform(text):
    """Return a platform: empty, or Sentry's name for one (``python``, ...)."""
    platform = text.strip()
    if not platform:
        return ""
    if len(platform) > PLATFORM_MAX_LENGTH or not PLATFORM.fullmatch(platform):
        raise Invalid(
            f"A platform is lowercase letters, digits, '.', '-' or '_', at most "
            f"{PLATFORM_MAX_LENGTH} characters (e.g. python or javascript)."
        )
    return platform


def read_retention(text):
    """Return a retention in days: empty for the default, else 1 to a century."""
    if not text.strip():
        return None
    days = parse_int(text.strip(), minimum=1, maximum=MAX_RETENTION_DAYS)
    if days is None:
        raise Invalid(
            f"A retention is a whole number of days from 1 to {MAX_RETENTION_DAYS} "
            "(empty for cleanup_sentry's --days)."
        )
    return days
