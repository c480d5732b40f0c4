"""
What the releases page shows of each release: its events, and the groups
new and regressed in it.

A page of releases costs a constant number of queries whatever their
number of events or groups: the events are summed from the per-group value
counters (``MessageFilterValue``, key ``tag:release``), never counted in the
occurrences; the groups new in a release are those whose ``first_release``
it is, the regressed ones those with a regressed history entry naming it.
Of each, the total and the :data:`SHOWN` most recent are read, by one
windowed query each.
"""

from urllib.parse import urlencode

from django.db.models import Count, F, Max, Sum, Window
from django.db.models.functions import RowNumber
from django.urls import NoReverseMatch, reverse

from ..models import GroupedMessage, MessageFilterValue
from ..tags import TAG_PREFIX, search_term
from ..workflow.models import REGRESSED, GroupActivity

#: Groups listed per release and kind (new, regressed); the rest are counted.
SHOWN = 5
RELEASE_KEY = TAG_PREFIX + "release"
#: What the list shows of a group.
GROUP_FIELDS = (
    "pk",
    "project_id",
    "short_id",
    "message",
    "class_name",
    "level",
    "status",
    "first_release",
    "first_seen",
    "last_seen",
)


class ReleaseGroups:
    """The groups of one kind (new, regressed) of a release: a few, and a total."""

    __slots__ = ("groups", "total")

    def __init__(self):
        self.groups = []
        self.total = 0

    @property
    def more(self):
        return self.total - len(self.groups)


def release_url(project, name):
    """
    Return the page of release ``name``, or None when no URL can name it.

    A name with a line break (a client sends what it likes) matches no
    path, and one with a ``.`` or ``..`` segment (``../../admin``) is a
    path a browser resolves elsewhere before asking for it: either is
    listed without a page of its own.
    """
    if any(segment in (".", "..") for segment in name.split("/")):
        return None
    try:
        return reverse("sentry:release", args=[project.slug, name])
    except NoReverseMatch:
        return None


def stream_url(project, name):
    """Return the stream of ``project``'s errors seen in release ``name``."""
    query = {"project": project.slug, "q": search_term(RELEASE_KEY, name)}
    return reverse("sentry:index") + "?" + urlencode(query)


def count_events(project, names):
    """Return ``{name: events}`` of releases of ``project``: one query."""
    counted = (
        MessageFilterValue.objects.filter(
            key=RELEASE_KEY, value__in=names, group__project=project
        )
        .order_by()
        .values("value")
        .annotate(events=Sum("times_seen"))
    )
    return {row["value"]: row["events"] for row in counted}


def regressed_in(project, name, limit):
    """
    Return the groups that regressed in release ``name``, latest first.

    ``[(group, date)]``, each group once (its latest regression in the
    release), at most ``limit``: two queries.
    """
    rows = list(
        GroupActivity.objects.filter(
            kind=REGRESSED, release=name, group__project=project
        )
        .order_by()
        .values("group_id")
        .annotate(last=Max("date"))
        .order_by("-last", "-group_id")[:limit]
    )
    groups = GroupedMessage.objects.only(*GROUP_FIELDS).in_bulk(
        [row["group_id"] for row in rows]
    )
    return [
        (groups[row["group_id"]], row["last"])
        for row in rows
        if row["group_id"] in groups
    ]


def summarize(project, releases):
    """
    Give each of ``releases`` (of ``project``) what the page shows.

    Sets ``events``, ``new`` and ``regressed`` (:class:`ReleaseGroups`) and
    ``stream_url`` on each. Four queries.
    """
    names = [release.version for release in releases]
    by_name = {release.version: release for release in releases}
    for release in releases:
        release.events = 0
        release.new = ReleaseGroups()
        release.regressed = ReleaseGroups()
        release.stream_url = stream_url(project, release.version)
        release.url = release_url(project, release.version)
        release.kinds = (("new", release.new), ("regressed", release.regressed))
    if not names:
        return releases

    for name, events in count_events(project, names).items():
        by_name[name].events = events

    new = (
        GroupedMessage.objects.filter(project=project, first_release__in=names)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("first_release")],
                order_by=[F("first_seen").desc(), F("pk").desc()],
            ),
            total=Window(Count("pk"), partition_by=[F("first_release")]),
        )
        .filter(rank__lte=SHOWN)
        .only(*GROUP_FIELDS)
        .order_by()
    )
    for group in sorted(new, key=lambda group: group.rank):
        kind = by_name[group.first_release].new
        kind.groups.append(group)
        kind.total = group.total

    regressions = list(
        GroupActivity.objects.filter(
            kind=REGRESSED, release__in=names, group__project=project
        )
        .order_by()
        .values("release", "group_id")
        .annotate(last=Max("date"))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("release")],
                order_by=[F("last").desc(), F("group_id").desc()],
            ),
            total=Window(Count("group_id"), partition_by=[F("release")]),
        )
        .filter(rank__lte=SHOWN)
    )
    groups = GroupedMessage.objects.only(*GROUP_FIELDS).in_bulk(
        sorted({row["group_id"] for row in regressions})
    )
    for row in sorted(regressions, key=lambda row: row["rank"]):
        kind = by_name[row["release"]].regressed
        group = groups.get(row["group_id"])
        if group is not None:
            kind.groups.append(group)
        kind.total = row["total"]
    return releases
