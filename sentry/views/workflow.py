"""An error's history tab, and the changes made from it: mute, unmute, comments."""

from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from .. import pagination
from ..models import GroupedMessage
from ..params import parse_int
from ..projects import visible_groups
from ..workflow import comments
from ..workflow.models import GroupActivity
from ..workflow.mute import MuteError, form_condition, mute, read_condition, unmute
from .access import dashboard_view, refuse, wants_json
from .actions import bad_request, next_url
from .groups import get_group, group_context
from .responses import json_response

PAGE_SIZE = 50


@dashboard_view
def history(request, group_id):
    """List an error's history, newest first, a page at a time, and its comments."""
    group = get_group(request, group_id)
    entries = GroupActivity.objects.filter(group=group).select_related("user")
    page = pagination.paginate(entries, "date", "datetime", request.GET, PAGE_SIZE)

    return render(
        request,
        "sentry/group/history.html",
        {
            **group_context(request, group, "history"),
            "page": page,
            "max_comment_length": comments.MAX_LENGTH,
        },
    )


def changed_group(request, group_id):
    """Return the group a change names, if the user may see it; else a 404."""
    # Another project's group is as missing as a deleted one: a 404.
    groups = visible_groups(GroupedMessage.objects.only("id"), request.user)
    return get_object_or_404(groups, pk=group_id)


@dashboard_view(public=False)
@require_POST
@csrf_protect
def mute_group(request, group_id):
    """Mute an error: for a while, until it is seen or hits users again, or forever."""
    group = changed_group(request, group_id)
    try:
        condition = read_condition(form_condition(request.POST))
    except MuteError as exc:
        return bad_request(request, str(exc))

    mute(GroupedMessage.objects.filter(pk=group.pk), condition, request.user)

    return done(request, group, {"id": group.pk, "muted": True})


@dashboard_view(public=False)
@require_POST
@csrf_protect
def unmute_group(request, group_id):
    """Unmute an error."""
    group = changed_group(request, group_id)

    unmute(GroupedMessage.objects.filter(pk=group.pk), request.user)

    return done(request, group, {"id": group.pk, "muted": False})


@dashboard_view(public=False)
@require_POST
@csrf_protect
def comment(request, group_id):
    """
    Add a comment, or change or delete one of one's own.

    ``text`` alone adds one; ``comment`` (an id) with ``text`` edits it, with
    ``delete`` deletes it. Someone else's comment is refused (403).
    """
    group = changed_group(request, group_id)
    comment_id = request.POST.get("comment")
    try:
        if comment_id is None:
            comments.add(group.pk, request.user, request.POST.get("text", ""))
        else:
            entry = get_object_or_404(
                GroupActivity,
                group=group,
                kind="comment",
                pk=parse_int(comment_id) or 0,
            )
            if entry.user_id != request.user.pk:
                return refuse(
                    request,
                    json=wants_json(request),
                    reason="Only its author may change or delete a comment.",
                )
            if request.POST.get("delete"):
                entry.delete()
            else:
                comments.edit(entry, request.POST.get("text", ""))
    except comments.CommentError as exc:
        return bad_request(request, str(exc))

    return done(request, group, {"id": group.pk}, tab="sentry:group-history")


def done(request, group, answer, tab="sentry:group"):
    if wants_json(request):
        return json_response(answer)
    return HttpResponseRedirect(next_url(request, reverse(tab, args=[group.pk])))
