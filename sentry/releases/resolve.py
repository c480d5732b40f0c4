"""
Resolving a group in a release, and which events reopen it.

Three ways to resolve a group (``GroupedMessage``):

* plainly: any new event reopens it;
* in release X (``resolved_in_release = X``): only an event of a release
  newer than X reopens it;
* in the next release (``resolved_in_next``): the same, X being the
  group's last release when it was resolved.

"Newer" is :func:`sentry.releases.versions.is_newer`: by semantic version
when both names read as one, else by when each release was first seen. An
event of the same or an older release, or of no release at all, never
reopens a group resolved in a release: an old server still running the
previous release, or a process that sends no release, is not a regression
of the fix.
"""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ..constants import STATUS_RESOLVED
from ..params import can_be_stored
from ..workflow.models import RESOLVED, GroupActivity
from .models import MAX_VERSION_LENGTH, Release
from .versions import is_newer

#: The fields of a resolution (the API's body).
FIELDS = ("release", "next_release")


class ResolveError(ValueError):
    """A resolution that cannot be made: the message says why."""


def resolution_text(release, next_release):
    """Return how a resolution in a release is told: "Resolved in release 2.1"."""
    if next_release:
        return f"Resolved in the next release (after {release})"
    return f"Resolved in release {release}"


def read_resolution(body):
    """
    Return ``body`` (a dict) checked: ``{}``, ``{"release": name}`` or
    ``{"next_release": True}``; raise :class:`ResolveError`.

    A release not seen yet is allowed (it is created): a fix is often
    deployed before its first event arrives.
    """
    if not isinstance(body, dict):
        raise ResolveError("The body must be a JSON object.")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ResolveError(
            f"Unknown field {unknown[0]!r}; use 'release' or 'next_release'."
        )
    if len(body) > 1:
        raise ResolveError("Give either 'release' or 'next_release', not both.")
    if "next_release" in body:
        if body["next_release"] is not True:
            raise ResolveError("'next_release' must be true.")
        return {"next_release": True}
    if "release" in body:
        return {"release": release_name(body["release"])}
    return {}


def release_name(value):
    """Return ``value`` as a release name; raise :class:`ResolveError`."""
    if not isinstance(value, str):
        raise ResolveError("'release' must be a release name (a string).")
    name = value.strip()
    if not name:
        raise ResolveError("'release' must not be empty.")
    if len(name) > MAX_VERSION_LENGTH:
        raise ResolveError(
            f"'release' is too long ({MAX_VERSION_LENGTH} characters at most)."
        )
    if not can_be_stored(name):
        raise ResolveError("'release' must not contain a NUL character.")
    return name


def resolve(groups, resolution, user, now=None):
    """
    Resolve the groups of ``groups`` (a queryset) as ``resolution`` says.

    ``resolution`` comes from :func:`read_resolution`; ``{}`` resolves
    plainly (:func:`sentry.workflow.mute.set_status`). In a release or the
    next one, each group's change is recorded in its history with the
    release it was resolved in. A group never seen in a release cannot be
    resolved "in the next release" (there is no release to be newer than):
    :class:`ResolveError`. Return how many groups changed.
    """
    from ..workflow.mute import set_status

    if not resolution:
        return set_status(groups, STATUS_RESOLVED, user, now=now)
    now = now or timezone.now()
    values = {"status": STATUS_RESOLVED, "resolved_at": now, "muted": False}
    if "release" in resolution:
        name = resolution["release"]
        values.update(resolved_in_release=name, resolved_in_next=False)
    else:
        # The group's own last release, read by the UPDATE itself.
        values.update(resolved_in_release=F("last_release"), resolved_in_next=True)
    with transaction.atomic(using=groups.db):
        if "next_release" in resolution:
            groups = groups.filter(last_release__isnull=False)
        found = list(groups.order_by().values_list("pk", "project_id"))
        if not found:
            if "next_release" in resolution:
                raise ResolveError(
                    "This error was never seen in a release: resolve it, or "
                    "resolve it in a named release."
                )
            return 0
        if "release" in resolution:
            # Known from now on: ordered by when it was first named. Before
            # the groups' rows are locked, as the storage does, so that a
            # digest creating the same release never waits on us while we
            # wait on it.
            Release.objects.using(groups.db).bulk_create(
                [
                    Release(project_id=project_id, version=name, date_added=now)
                    for project_id in sorted({row[1] for row in found})
                ],
                ignore_conflicts=True,
            )
        ids = [row[0] for row in found]
        rows = groups.model._default_manager.using(groups.db).filter(pk__in=ids)
        changed = rows.update(**values)
        resolved = list(rows.values_list("pk", "project_id", "resolved_in_release"))
        user_id = getattr(user, "pk", None)
        GroupActivity.objects.using(groups.db).bulk_create(
            [
                GroupActivity(
                    group_id=pk,
                    kind=RESOLVED,
                    date=now,
                    user_id=user_id,
                    release=release,
                    text=resolution_text(release, "next_release" in resolution),
                )
                for pk, _, release in resolved
            ]
        )
    return changed


def first_seen(using, pairs):
    """Return ``{(project_id, name): date_added}`` of the releases ``pairs`` name."""
    by_project = {}
    for project_id, name in pairs:
        by_project.setdefault(project_id, set()).add(name)
    if not by_project:
        return {}
    condition = Q()
    for project_id, names in sorted(by_project.items()):
        condition |= Q(project_id=project_id, version__in=sorted(names))
    rows = Release.objects.using(using).filter(condition)
    return {
        (project_id, version): date_added
        for project_id, version, date_added in rows.values_list(
            "project_id", "version", "date_added"
        )
    }


def reopening_events(using, groups):
    """
    Return ``{group_id: index}`` of the events that reopen groups.

    ``groups`` is ``{group_id: (project_id, resolved_in, [(index, release)])}``
    with a group's events in order; the first event of a release newer than
    ``resolved_in`` is the one that reopens it. One query, for the
    first-seen times of the releases involved.
    """
    wanted = set()
    for project_id, resolved_in, events in groups.values():
        wanted.add((project_id, resolved_in))
        wanted.update((project_id, name) for _, name in events if name is not None)
    seen = first_seen(using, wanted)
    found = {}
    for group_id, (project_id, resolved_in, events) in sorted(groups.items()):
        than = (resolved_in, seen.get((project_id, resolved_in)))
        checked = set()
        for index, name in events:
            if name is None or name in checked:
                continue
            checked.add(name)
            if is_newer((name, seen.get((project_id, name))), than):
                found[group_id] = index
                break
    return found
