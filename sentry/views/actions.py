"""Resolve, unresolve, mute and unmute errors, one or many (POST only, never public)."""

from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from ..constants import STATUS_CHOICES, STATUS_RESOLVED, STATUS_UNRESOLVED
from ..models import GroupedMessage
from ..params import parse_int
from ..projects import visible_groups
from ..releases import resolve as releases
from ..stream import StreamQuery
from ..workflow import mute as workflow
from .access import dashboard_view, wants_json
from .responses import json_response

STATUS_LABELS = dict(STATUS_CHOICES)
#: Most ids a "resolve selected" may name (a page holds 50).
MAX_SELECTED = 500
#: Most errors an "... all matching" changes; past it, none and why.
MAX_MATCHING = 10_000
ACTIONS = ("resolve", "unresolve", "mute", "unmute")


def status_changes(status):
    """Return the column values that give a group ``status``."""
    if status == STATUS_RESOLVED:
        # Resolving ends a mute (see sentry.workflow.mute.set_status).
        return {"status": status, "resolved_at": timezone.now(), "muted": False}
    return {"status": status, "resolved_at": None}


@dashboard_view(public=False)
@require_POST
@csrf_protect
def resolve(request, group_id):
    """
    Mark an error resolved (or unresolved with ``unresolve=1``).

    ``next_release=1`` resolves it in the next release, ``release=<name>``
    in that release (see :mod:`sentry.releases.resolve`).
    """
    if request.POST.get("unresolve"):
        return set_status(request, group_id, STATUS_UNRESOLVED)
    form = {}
    if request.POST.get("next_release"):
        form["next_release"] = True
    if "release" in request.POST:
        form["release"] = request.POST["release"]
    if not form:
        return set_status(request, group_id, STATUS_RESOLVED)
    groups = visible_groups(GroupedMessage.objects.only("id"), request.user)
    group = get_object_or_404(groups, pk=group_id)
    try:
        releases.resolve(
            GroupedMessage.objects.filter(pk=group.pk),
            releases.read_resolution(form),
            request.user,
        )
    except releases.ResolveError as exc:
        if wants_json(request):
            return json_response({"error": str(exc)}, status=400)
        return render(request, "sentry/400.html", {"reason": str(exc)}, status=400)
    if wants_json(request):
        return json_response(
            {
                "id": group.pk,
                "status": STATUS_RESOLVED,
                "status_label": STATUS_LABELS[STATUS_RESOLVED],
                "resolved": True,
            }
        )
    return HttpResponseRedirect(
        next_url(request, reverse("sentry:group", args=[group.pk]))
    )


@dashboard_view(public=False)
@require_POST
@csrf_protect
def unresolve(request, group_id):
    """Mark an error unresolved."""
    return set_status(request, group_id, STATUS_UNRESOLVED)


def set_status(request, group_id, status):
    # Another project's group is as missing as a deleted one: a 404.
    groups = visible_groups(GroupedMessage.objects.only("id"), request.user)
    group = get_object_or_404(groups, pk=group_id)

    # Recorded in the group's history, with who did it.
    workflow.set_status(
        GroupedMessage.objects.filter(pk=group.pk), status, request.user
    )

    if wants_json(request):
        return json_response(
            {
                "id": group.pk,
                "status": status,
                "status_label": STATUS_LABELS[status],
                "resolved": status == STATUS_RESOLVED,
            }
        )
    return HttpResponseRedirect(
        next_url(request, reverse("sentry:group", args=[group.pk]))
    )


@dashboard_view(public=False)
@require_POST
@csrf_protect
def bulk(request):
    """
    Resolve, unresolve, mute or unmute the selected rows, or every row matching.

    ``op`` is ``<action>-selected`` or ``<action>-all``, the action one of
    ``resolve``, ``unresolve``, ``mute`` (with the group page's mute fields:
    ``for``, ``until``, ``count``, ``users``) and ``unmute``; the filters come
    in the query string, exactly as the stream reads them.
    """
    action, _, scope = request.POST.get("op", "").partition("-")
    if action not in ACTIONS or scope not in ("selected", "all"):
        return bad_request(request, "Unknown operation.")
    condition = None
    if action == "mute":
        try:
            condition = workflow.read_condition(workflow.form_condition(request.POST))
        except workflow.MuteError as exc:
            return bad_request(request, str(exc))

    if scope == "all":
        stream = StreamQuery(request)
        if stream.search_error is not None:
            # "Every row matching" a query nobody could read: none, and why.
            return bad_request(request, stream.search_error.reason)
        groups = stream.queryset()
        limit = MAX_MATCHING
    else:
        # Whatever is not an id ("²", "-1", 10**30) names no group: left out.
        ids = [parse_int(i) for i in request.POST.getlist("ids")[:MAX_SELECTED]]
        groups = visible_groups(
            GroupedMessage.objects.filter(pk__in=[i for i in ids if i]), request.user
        )
        limit = None
    # One UPDATE and one INSERT into the history per 500 rows, each its own
    # transaction; "all matching" refuses more than MAX_MATCHING at once.
    try:
        if action == "mute":
            updated = workflow.mute(groups, condition, request.user, limit=limit)
        elif action == "unmute":
            updated = workflow.unmute(groups, request.user, limit=limit)
        else:
            status = STATUS_RESOLVED if action == "resolve" else STATUS_UNRESOLVED
            updated = workflow.set_status(groups, status, request.user, limit=limit)
    except workflow.TooManyGroups as exc:
        return bad_request(request, str(exc))

    if wants_json(request):
        if action in ("mute", "unmute"):
            return json_response({"updated": updated, "muted": action == "mute"})
        return json_response({"updated": updated, "status": status})
    stream = reverse("sentry:index")
    query = request.GET.urlencode()
    return HttpResponseRedirect(
        next_url(request, f"{stream}?{query}" if query else stream)
    )


def bad_request(request, reason):
    """Answer 400 with why: JSON to a script, a page to a browser's form."""
    if wants_json(request):
        return json_response({"error": reason}, status=400)
    return render(request, "sentry/400.html", {"reason": reason}, status=400)


def next_url(request, default):
    """Return the form's ``next`` if it is a path on this site, else ``default``."""
    # A path only (the forms send the page's own): redirect() would take
    # other text for a view name and fail to reverse it.
    candidate = request.POST.get("next") or ""
    if candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    ):
        return candidate
    return default
