"""A project's releases: when each appeared, its events, new and regressed errors."""

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from .. import pagination
from ..models import GroupedMessage
from ..params import can_be_stored
from ..projects import visible_projects
from ..releases.models import MAX_VERSION_LENGTH, Release
from ..releases.summary import (
    GROUP_FIELDS,
    SHOWN,
    count_events,
    regressed_in,
    stream_url,
    summarize,
)
from .access import dashboard_view

PAGE_SIZE = 25
#: Errors regressed in a release listed on its page (the latest ones).
REGRESSED_SHOWN = 50


@dashboard_view
def releases(request, project_slug):
    """List a project's releases, newest first, a page at a time."""
    project = visible_projects(request.user).filter(slug=project_slug).first()
    if project is None:
        raise Http404("No such project.")

    page = pagination.paginate(
        Release.objects.filter(project=project),
        "date_added",
        "datetime",
        request.GET,
        PAGE_SIZE,
    )
    summarize(project, page.items)

    return render(
        request,
        "sentry/releases/list.html",
        {"project": project, "page": page, "shown": SHOWN},
    )


@dashboard_view
def release(request, project_slug, version):
    """Show one release: its events, the errors new in it and regressed in it."""
    project = visible_projects(request.user).filter(slug=project_slug).first()
    if project is None or not can_be_stored(version, MAX_VERSION_LENGTH):
        raise Http404("No such release.")
    release = get_object_or_404(Release, project=project, version=version)

    events = count_events(project, [version]).get(version, 0)
    new = pagination.paginate(
        GroupedMessage.objects.filter(project=project, first_release=version).only(
            *GROUP_FIELDS
        ),
        "first_seen",
        "datetime",
        request.GET,
        PAGE_SIZE,
    )
    regressed = regressed_in(project, version, REGRESSED_SHOWN)

    return render(
        request,
        "sentry/releases/release.html",
        {
            "project": project,
            "release": release,
            "events": events,
            "new": new,
            "regressed": regressed,
            "regressed_shown": REGRESSED_SHOWN,
            "stream_url": stream_url(project, version),
        },
    )
