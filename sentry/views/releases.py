"""A project's releases: when each appeared, its events, new and regressed errors."""

from django.http import Http404
from django.shortcuts import render

from .. import pagination
from ..projects import visible_projects
from ..releases.models import Release
from ..releases.summary import SHOWN, summarize
from .access import dashboard_view

PAGE_SIZE = 25


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
