"""
Set-up from the dashboard: each project's client keys, DSNs and SDK snippets.

Each :class:`~sentry.models.Project` has a page (project 1, the site's
own, always exists; projects are made and edited on their settings page,
:mod:`sentry.views.project_settings`, or in the admin). Staff who can read the dashboard
see the keys; creating one needs ``sentry.add_projectkey``, and renaming,
disabling, enabling and rotating one ``sentry.change_projectkey``. The
actions are POST forms with a CSRF token, answered by a redirect to the
project's page, whose message names what was done.
"""

from urllib.parse import urlencode, urlsplit

from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from .. import projects as access_to_projects
from ..conf import settings
from ..ingest.keys import ProjectKey, new_key
from ..params import can_be_stored, parse_int
from ..projects import visible_projects
from ..snippets import snippets
from .access import (
    can_add_keys,
    can_add_projects,
    can_change_keys,
    can_change_projects,
    can_see_keys,
    dashboard_view,
)

#: The project every site has (the DSN's default number).
SITE_PROJECT = 1
#: Largest project id and rate limit: ``PositiveIntegerField`` on every backend.
MAX_POSITIVE_INT = 2**31 - 1
LABEL_MAX_LENGTH = ProjectKey._meta.get_field("label").max_length

SEE = "Client keys are shown to staff who may read the dashboard."
ADD = "Creating a client key needs the sentry.add_projectkey permission."
CHANGE = "Changing a client key needs the sentry.change_projectkey permission."

#: What the project page says after an action (``?done=<action>&key=<id>``).
DONE = {
    "created": "Key “{label}” created. Its DSN is below.",
    "renamed": "Key renamed to “{label}”.",
    "disabled": "Key “{label}” disabled: events sent with its DSN are refused.",
    "enabled": "Key “{label}” enabled: its DSN is accepted again.",
    "rotated": (
        "Key “{label}” rotated: its new DSN is below. The old one is no "
        "longer accepted; update every application that used it."
    ),
}


class Invalid(ValueError):
    """A form value that cannot be used; its text is shown to the user."""


# --- pages --------------------------------------------------------------------


@dashboard_view(allow=can_see_keys, reason=SEE)
def projects(request):
    """List the projects with how many keys each has."""
    projects = (
        visible(request)
        .order_by("pk")
        .annotate(
            key_count=Count("keys"),
            active=Count("keys", filter=Q(keys__is_active=True)),
        )
    )
    return TemplateResponse(
        request,
        "sentry/setup/projects.html",
        {
            "projects": projects,
            "can_add": can_add_keys(request.user),
            "can_add_projects": can_add_projects(request.user),
            "base_url": _base_url(request),
        },
    )


@dashboard_view(allow=can_see_keys, reason=SEE)
def project(request, project_id):
    """Show a project's keys with their DSNs, and the snippets for one of them."""
    return render_project(request, project_id)


def render_project(request, project_id, errors=None, form=None, status=200):
    """Render a project's page; ``errors`` (field -> text) come from ``form``."""
    project = visible(request).filter(pk=project_id).first()
    if project is None:
        if not errors:
            raise Http404("No such project.")
        # A form naming no project: its errors are shown on the site's page.
        project = get_object_or_404(visible(request), pk=SITE_PROJECT)
    keys = list(ProjectKey.objects.filter(project=project))

    errors = errors or {}
    for key in keys:
        # The page shows the public DSN only: a secret is never displayed.
        key.dsn_here = key.get_dsn(request=request)
        key.rename_error = errors.get(f"label-{key.pk}", "")
    chosen = _chosen_key(request, keys)
    done = _done_message(request, keys)
    return TemplateResponse(
        request,
        "sentry/setup/project.html",
        {
            "project": project,
            "project_id": project.pk,
            "keys": keys,
            "chosen": chosen,
            "snippets": snippets(chosen.dsn_here) if chosen else [],
            "done": done,
            "errors": errors,
            "form": form or {},
            "can_add": can_add_keys(request.user),
            "can_change": can_change_keys(request.user),
            "can_change_project": can_change_projects(request.user),
            "prefix_differs": _prefix_differs(request),
            "label_max_length": LABEL_MAX_LENGTH,
        },
        status=status,
    )


def visible(request):
    """Return the projects the user may see (see :mod:`sentry.projects`)."""
    return access_to_projects.visible_projects(request.user)


def visible_key(request, key_id):
    """Return a key of a project the user may see, or raise 404."""
    return get_object_or_404(ProjectKey, pk=key_id, project__in=visible(request))


def _chosen_key(request, keys):
    """Return the key the snippets use: ``?key=<id>``, else the first active one."""
    wanted = parse_int(request.GET.get("key"))
    for key in keys:
        if key.pk == wanted:
            return key
    return next((key for key in keys if key.is_active), keys[0] if keys else None)


def _done_message(request, keys):
    """Return the message for ``?done=<action>&key=<id>``, or ``""``."""
    template = DONE.get(request.GET.get("done", ""))
    wanted = parse_int(request.GET.get("key"))
    key = next((key for key in keys if key.pk == wanted), None)
    if template is None or key is None:
        return ""
    # The label is text: the template escapes the whole message.
    return template.format(label=key.label)


def _base_url(request):
    return request.build_absolute_uri(reverse("sentry:index"))


def _prefix_differs(request):
    """Return ``SENTRY_URL_PREFIX`` when it names another origin than this page's."""
    prefix = settings.URL_PREFIX
    if not prefix:
        return ""
    here = urlsplit(request.build_absolute_uri("/"))
    there = urlsplit(prefix)
    if (there.scheme, there.netloc) == (here.scheme, here.netloc):
        return ""
    return prefix


# --- actions ------------------------------------------------------------------


@dashboard_view(allow=can_add_keys, reason=ADD)
@require_POST
@csrf_protect
def create_key(request):
    """Create a key from ``label``, ``project`` and an optional ``rate_limit``."""
    errors = {}
    fields = {}
    for name, read in (
        ("label", read_label),
        ("project", lambda text: read_project(text, visible(request))),
        ("rate_limit", read_rate_limit),
    ):
        try:
            fields[name] = read(request.POST.get(name, ""))
        except Invalid as exc:
            errors[name] = str(exc)
    if errors:
        # Shown again on the project's page (the site's one when the project
        # number itself is wrong), with the values as typed.
        return render_project(
            request,
            fields.get("project", SITE_PROJECT),
            errors=errors,
            form=request.POST,
            status=400,
        )
    key = ProjectKey.objects.create(
        label=fields["label"],
        project_id=fields["project"],
        rate_limit=fields["rate_limit"],
    )
    return done(key, "created")


@dashboard_view(allow=can_change_keys, reason=CHANGE)
@require_POST
@csrf_protect
def rename_key(request, key_id):
    """Give a key a new ``label``."""
    key = visible_key(request, key_id)
    try:
        key.label = read_label(request.POST.get("label", ""))
    except Invalid as exc:
        return render_project(
            request, key.project_id, errors={f"label-{key.pk}": str(exc)}, status=400
        )
    # save(), not update(): the ingest key cache forgets the key on save.
    key.save(update_fields=["label"])
    return done(key, "renamed")


@dashboard_view(allow=can_change_keys, reason=CHANGE)
@require_POST
@csrf_protect
def disable_key(request, key_id):
    """Refuse the events sent with a key from now on."""
    return set_active(visible_key(request, key_id), False)


@dashboard_view(allow=can_change_keys, reason=CHANGE)
@require_POST
@csrf_protect
def enable_key(request, key_id):
    """Accept the events sent with a disabled key again."""
    return set_active(visible_key(request, key_id), True)


def set_active(key, active):
    key.is_active = active
    key.save(update_fields=["is_active"])
    return done(key, "enabled" if active else "disabled")


@dashboard_view(allow=can_change_keys, reason=CHANGE)
@require_POST
@csrf_protect
def rotate_key(request, key_id):
    """Give a key a new public key (and secret, if it had one): the old DSN dies."""
    key = visible_key(request, key_id)
    key.public_key = new_key()
    if key.secret_key:
        key.secret_key = new_key()
    key.save(update_fields=["public_key", "secret_key"])
    return done(key, "rotated")


def get_key(request, key_id):
    """Return a key of a project the user may see; a 404 for any other."""
    keys = ProjectKey.objects.filter(project__in=visible_projects(request.user))
    return get_object_or_404(keys, pk=key_id)


def done(key, action):
    """Redirect to the key's project page, which says what was done."""
    # Always our own page: no address taken from the request (no open redirect).
    url = reverse("sentry:setup-project", args=[key.project_id])
    query = urlencode({"done": action, "key": key.pk})
    return HttpResponseRedirect(f"{url}?{query}#key-{key.pk}")


# --- form values --------------------------------------------------------------


def read_label(text):
    """Return a key's label from a form: trimmed, 1 to 128 printable characters."""
    label = text.strip()
    if not label:
        raise Invalid("Give the key a label (the name of the sending application).")
    if len(label) > LABEL_MAX_LENGTH:
        raise Invalid(f"A label has at most {LABEL_MAX_LENGTH} characters.")
    if not can_be_stored(label) or not label.isprintable():
        raise Invalid("A label cannot contain control characters.")
    return label


def read_project(text, projects):
    """Return the id of a project of ``projects`` from a form (empty: the site's)."""
    number = SITE_PROJECT
    if text.strip():
        number = parse_int(text.strip(), maximum=MAX_POSITIVE_INT)
        if number is None:
            raise Invalid(f"A project is a whole number from 0 to {MAX_POSITIVE_INT}.")
    if not projects.filter(pk=number).exists():
        raise Invalid(f"There is no project {number}: make it first.")
    return number


def read_rate_limit(text):
    """Return a rate limit from a form: empty for none, else a whole number >= 1."""
    if not text.strip():
        return None
    limit = parse_int(text.strip(), minimum=1, maximum=MAX_POSITIVE_INT)
    if limit is None:
        raise Invalid(
            f"A rate limit is a whole number of events per minute, "
            f"from 1 to {MAX_POSITIVE_INT} (empty for none)."
        )
    return limit
