"""
JSON API of the workflow: resolve, mute, unmute, a group's history, comments.

``POST groups/<id>/resolve/`` takes nothing, ``{"release": "<name>"}`` or
``{"next_release": true}`` (see :mod:`sentry.releases.resolve`);
``POST groups/<id>/mute/`` takes one condition (see
:mod:`sentry.workflow.mute`), ``POST groups/<id>/comments/`` a ``text``;
``PATCH`` (or ``POST``) and ``DELETE`` of ``groups/<id>/comments/<id>/``
edit and delete a comment, its author's only. A body that cannot be read is
a 400 that says why. Changes need the ``event:write`` scope (or a staff
session with the change permission).
"""

import json

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404

from ..releases.resolve import ResolveError, read_resolution
from ..releases.resolve import resolve as resolve_groups
from ..workflow import comments as comment_text
from ..workflow.models import COMMENT, GroupActivity
from ..workflow.mute import MuteError, read_condition
from ..workflow.mute import mute as mute_groups
from ..workflow.mute import unmute as unmute_groups
from .auth import api_view, error
from .serializers import group_summary
from .views import MAX_OFFSET, _groups, _page

FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def read_body(request):
    """Return the JSON object of the body (``{}`` when empty), or raise ValueError."""
    if request.content_type in FORMS:
        # A bare POST (curl -X POST, a test client) sends an empty form.
        # Django reads a form for POST only: another method's is its body.
        if request.method == "POST":
            sent = request.POST or request.FILES
        else:
            sent = request.body.strip()
        if sent:
            raise ValueError("Send the body as JSON (Content-Type: application/json).")
        return {}
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except RecursionError:
        # "[[[[..." within the upload limit: a 500 otherwise.
        raise ValueError("The body is nested too deeply.") from None
    except (ValueError, UnicodeDecodeError):
        raise ValueError("The body is not JSON.") from None
    if not isinstance(body, dict):
        raise ValueError("The body must be a JSON object.")
    return body


def _group(request, group_id):
    return get_object_or_404(
        _groups(request).select_related(None).only("pk"), pk=group_id
    )


def _summary(request, group_id):
    group = _groups(request).defer("data").get(pk=group_id)
    return JsonResponse(group_summary(group, request))


@api_view(methods=("POST",), write=True)
def resolve(request, group_id):
    group = _group(request, group_id)
    try:
        resolution = read_resolution(read_body(request))
        # Recorded in the group's history, with the token's user.
        resolve_groups(_groups(request).filter(pk=group.pk), resolution, request.user)
    except (ValueError, ResolveError) as exc:
        # ResolveError: "in the next release" of a group seen in none.
        return error(400, str(exc))
    return _summary(request, group.pk)


@api_view(methods=("POST",), write=True)
def mute(request, group_id):
    group = _group(request, group_id)
    try:
        condition = read_condition(read_body(request))
    except (ValueError, MuteError) as exc:
        return error(400, str(exc))
    mute_groups(_groups(request).filter(pk=group.pk), condition, request.user)
    return _summary(request, group.pk)


@api_view(methods=("POST",), write=True)
def unmute(request, group_id):
    group = _group(request, group_id)
    unmute_groups(_groups(request).filter(pk=group.pk), request.user)
    return _summary(request, group.pk)


def history_entry(entry, request):
    """Return a history entry as JSON."""
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "date": entry.date.isoformat(),
        "user": entry.user.get_username() if entry.user is not None else None,
        "release": entry.release,
        "text": entry.text,
        "edited": entry.edited.isoformat() if entry.edited else None,
    }


@api_view()
def history(request, group_id):
    group = _group(request, group_id)
    entries = GroupActivity.objects.filter(group=group).select_related("user")
    page = _page(request, entries.order_by("-date", "-id"), history_entry)
    if page is None:
        return error(
            400, f"limit and offset must be whole numbers (offset <= {MAX_OFFSET})."
        )
    return JsonResponse(page)


@api_view(methods=("POST",), write=True)
def comments(request, group_id):
    group = _group(request, group_id)
    try:
        body = read_body(request)
        if "text" not in body:
            raise ValueError('Give the comment as {"text": "..."}.')
        entry = comment_text.add(group.pk, request.user, body["text"])
    except (ValueError, comment_text.CommentError) as exc:
        return error(400, str(exc))
    return JsonResponse(history_entry(entry, request), status=201)


@api_view(methods=("PATCH", "POST", "DELETE"), write=True)
def comment(request, group_id, comment_id):
    """Edit (``{"text": "..."}``) or delete one of one's own comments."""
    group = _group(request, group_id)
    entry = get_object_or_404(
        GroupActivity.objects.select_related("user"),
        group=group,
        kind=COMMENT,
        pk=comment_id,
    )
    # Staff may comment; only the author may change what they wrote.
    if entry.user_id is None or entry.user_id != request.user.pk:
        return error(403, "Only its author may change or delete a comment.")
    if request.method == "DELETE":
        entry.delete()
        return HttpResponse(status=204)
    try:
        body = read_body(request)
        if "text" not in body:
            raise ValueError('Give the new text as {"text": "..."}.')
        comment_text.edit(entry, body["text"])
    except (ValueError, comment_text.CommentError) as exc:
        return error(400, str(exc))
    return JsonResponse(history_entry(entry, request))
