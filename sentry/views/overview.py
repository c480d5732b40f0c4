"""The projects overview: each visible project's unresolved errors and last day."""

from urllib.parse import urlencode

from django.db.models import Count
from django.shortcuts import render
from django.urls import reverse

from .. import trends
from ..constants import STATUS_UNRESOLVED
from ..models import GroupedMessage
from ..projects import visible_groups, visible_projects
from ..stream import PROJECT
from .access import can_see_keys, dashboard_view


@dashboard_view
def projects(request):
    """
    List the projects with their unresolved errors and a 24 h sparkline.

    Three queries whatever the number of projects or events: the projects,
    the unresolved groups counted per project (from the per-project stream
    index), and the last day's per-minute counters summed per project and
    hour (never the occurrences).
    """
    projects = list(
        visible_projects(request.user)
        .only("id", "name", "slug", "platform")
        .order_by("name")
    )
    ids = [project.pk for project in projects]
    unresolved = unresolved_counts(request.user, ids)
    series = trends.hourly_counts_by_project(ids, trends.SPARKLINE_HOURS)

    stream_url = reverse("sentry:index")
    for project in projects:
        project.unresolved = unresolved.get(project.pk, 0)
        project.trend = series[project.pk]
        project.events_24h = sum(project.trend)
        project.stream_url = f"{stream_url}?{urlencode({PROJECT: project.slug})}"

    return render(
        request,
        "sentry/projects/overview.html",
        {
            "projects": projects,
            "can_set_up": can_see_keys(request.user),
            "switcher": {"projects": projects, "current": "", "keep": []},
        },
    )


def unresolved_counts(user, project_ids):
    """Return ``{project_id: unresolved groups}`` for ``project_ids``. One query."""
    if not project_ids:
        return {}
    groups = visible_groups(
        GroupedMessage.objects.filter(
            project__in=project_ids, status=STATUS_UNRESOLVED
        ),
        user,
    )
    return dict(groups.values_list("project_id").annotate(count=Count("id")).order_by())
