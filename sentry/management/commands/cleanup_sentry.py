"""
``manage.py cleanup_sentry``: delete old occurrences and empty groups.

Deletes in small batches, each in its own short transaction, so the site
keeps recording and serving while it runs; safe to run again and again from
cron. ``times_seen`` and the per-value counts keep counting every occurrence
ever seen; only the stored rows (and per-minute and per-project hourly trend
rows) go.

A project with a retention (``Project.retention_days``) keeps its errors
that many days, longer or shorter than ``--days``, which applies to the
others. ``--project`` limits the run to one project.
"""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from sentry import packing
from sentry.conf import settings
from sentry.constants import LEVELS_BY_NAME, MAX_RETENTION_DAYS
from sentry.db import get_write_alias
from sentry.models import (
    AlertDelivery,
    CompressionDictionary,
    FilterValue,
    GroupedMessage,
    Message,
    MessageCountByMinute,
    MessageFilterValue,
    Project,
    ProjectCountByHour,
    ValueCountByHour,
)
from sentry.projects import lookup_project_id
from sentry.queue import QueuedEvent, get_queue_alias, prune_digested


def parse_level(value):
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        return LEVELS_BY_NAME[value.lower()]
    except KeyError:
        raise CommandError(
            f"Unknown level {value!r}: use a name (error...) or a number."
        )


def parse_project(value):
    """Return the id of the project ``--project`` names (an id or a slug)."""
    if value is None:
        return None
    try:
        project_id = lookup_project_id(value)
    except ValueError:
        project_id = None
    if project_id is None:
        raise CommandError(f"No project has the id or slug {value!r}.")
    return project_id


class Projects:
    """Some projects: ``only`` these (``None`` for all) but not ``excluded``."""

    def __init__(self, only=None, excluded=()):
        self.only = only
        self.excluded = list(excluded)

    def q(self, prefix=""):
        """Return a ``Q`` of rows whose ``<prefix>project_id`` is one of these."""
        query = Q()
        if self.only is not None:
            query &= Q(**{f"{prefix}project_id__in": self.only})
        if self.excluded:
            query &= ~Q(**{f"{prefix}project_id__in": self.excluded})
        return query


class Command(BaseCommand):
    help = (
        "Delete occurrences older than --days (or their project's retention), "
        "then groups not seen since, and queued events set aside more than "
        "SENTRY_QUEUE_SET_ASIDE_DAYS ago."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=30, help="Keep this many days (default: 30)."
        )
        parser.add_argument(
            "--project", help="Only errors of this project (its id or slug)."
        )
        parser.add_argument("--logger", help="Only errors of this logger.")
        parser.add_argument(
            "--level", help="Only errors of this level (name or number)."
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=None,
            help="Keep at most this many occurrences per group "
            "(default: SENTRY_MAX_OCCURRENCES_PER_GROUP).",
        )
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Rows per transaction."
        )

    def handle(self, *args, days, project, logger, level, keep, batch_size, **options):
        if days < 0 or batch_size < 1:
            raise CommandError("--days must be >= 0 and --batch-size >= 1.")
        self.verbosity = options["verbosity"]
        self.batch_size = batch_size
        self.using = get_write_alias(Message)
        project_id = parse_project(project)
        now = timezone.now()
        match = {}
        if logger:
            match["logger"] = logger
        if level is not None:
            match["level"] = parse_level(level)

        # A project's own retention replaces --days for it, longer or shorter.
        retained = Project.objects.using(self.using).filter(
            retention_days__isnull=False
        )
        if project_id is not None:
            retained = retained.filter(pk=project_id)
        retention = dict(retained.values_list("pk", "retention_days"))
        for retained_id, retention_days in sorted(retention.items()):
            # Bounded as the admin and the settings page bound it, should a
            # row have been written around them.
            retention_days = min(retention_days, MAX_RETENTION_DAYS)
            self.delete_older(
                now - dt.timedelta(days=retention_days),
                match,
                Projects(only=[retained_id]),
            )
        if project_id is None or project_id not in retention:
            self.delete_older(
                now - dt.timedelta(days=days),
                match,
                Projects(
                    only=None if project_id is None else [project_id],
                    excluded=retention,
                ),
            )

        scope = Projects(only=None if project_id is None else [project_id])
        keep = settings.MAX_OCCURRENCES_PER_GROUP if keep is None else keep
        if keep:
            self.keep_newest(keep, match, scope)

        # Per project: a value some other project's groups still see is no
        # choice to offer in this one's stream.
        unused = FilterValue.objects.using(self.using).filter(
            ~Exists(
                MessageFilterValue.objects.using(self.using).filter(
                    key=OuterRef("key"),
                    value=OuterRef("value"),
                    group__project_id=OuterRef("project_id"),
                )
            )
        )
        self.delete_in_batches(unused, "unused filter values")

        # Occurrences are packed against their group's first one (see
        # sentry.packing): a dictionary whose occurrence was deleted (here,
        # in the admin, or by any other delete since the last run) is
        # replaced by one of a remaining occurrence, and it goes with its
        # group.
        replaced = packing.refresh_dictionaries(self.using, project_id=project_id)
        if replaced:
            self.progress(f"Replaced {replaced} compression dictionaries.", level=1)
        orphans = CompressionDictionary.objects.using(self.using).filter(
            ~Exists(
                GroupedMessage.objects.using(self.using).filter(
                    project_id=OuterRef("project_id"),
                    logger=OuterRef("logger"),
                    view=OuterRef("view"),
                    checksum=OuterRef("checksum"),
                )
            ),
            # Being replaced (by the admin, now): the replacement deletes it.
            ~Q(checksum__startswith=packing.RETIRED),
            scope.q(),
        )
        self.delete_in_batches(orphans, "compression dictionaries")
        packing.cache.clear()
        self.forget_digested()
        # Set-aside events have no logger or level, and no project retention:
        # --days applies to them only when the run is not limited to some
        # errors.
        self.purge_set_aside(days if not match and not retention else None, project_id)
        # The alert delivery log keeps each channel's last deliveries as it
        # is written (sentry.alerts.store); those older than --days go here,
        # on a full run only (a delivery is of no logger, level or project).
        if project_id is None and not match:
            old = AlertDelivery.objects.using(self.using).filter(
                date__lt=now - dt.timedelta(days=days)
            )
            self.delete_in_batches(old, "alert deliveries")

    def delete_older(self, cutoff, match, projects):
        """Delete what ``projects`` stored before ``cutoff``: occurrences, groups."""
        messages = Message.objects.using(self.using).filter(
            projects.q("group__"), datetime__lt=cutoff, **match
        )
        self.delete_in_batches(messages, "occurrences")

        group_match = {f"group__{key}": value for key, value in match.items()}
        minutes = MessageCountByMinute.objects.using(self.using).filter(
            projects.q("group__"), date__lt=cutoff, **group_match
        )
        self.delete_in_batches(minutes, "per-minute counts")
        value_hours = ValueCountByHour.objects.using(self.using).filter(
            projects.q("group__"), date__lt=cutoff, **group_match
        )
        self.delete_in_batches(value_hours, "per-value hourly counts")
        if not match:
            # A project's hours mix every logger and level: only a run for
            # all of them deletes its old ones.
            hours = ProjectCountByHour.objects.using(self.using).filter(
                projects.q(), date__lt=cutoff
            )
            self.delete_in_batches(hours, "per-project hourly counts")

        groups = GroupedMessage.objects.using(self.using).filter(
            projects.q(), last_seen__lt=cutoff, **match
        )
        self.delete_in_batches(groups, "groups")

    def purge_set_aside(self, days=None, project_id=None):
        """Delete queued events set aside more than SENTRY_QUEUE_SET_ASIDE_DAYS ago."""
        keep = settings.QUEUE_SET_ASIDE_DAYS
        days = keep if days is None else min(days, keep)
        queue_using = get_queue_alias()
        old = QueuedEvent.objects.using(queue_using).filter(
            failed=True, received__lt=time.time() - days * 86400
        )
        if project_id is not None:
            old = old.filter(project_id=project_id)
        self.delete_in_batches(old, "set aside queued events", using=queue_using)

    def forget_digested(self):
        """Forget digested ids a dead digest left behind (SENTRY_QUEUE_DATABASE)."""
        queue_using = get_queue_alias()
        if queue_using == self.using:
            return
        forgotten = 0
        while True:
            count = prune_digested(self.using, queue_using)
            forgotten += count
            if not count:
                break
        if forgotten and self.verbosity:
            self.stdout.write(f"Forgot {forgotten} digested event ids.")

    def keep_newest(self, keep, match, projects):
        """Delete all but the ``keep`` newest occurrences of every group."""
        crowded = (
            Message.objects.using(self.using)
            .filter(projects.q("group__"), **match)
            .values("group_id")
            .annotate(stored=Count("pk"))
            .filter(stored__gt=keep)
            .values_list("group_id", flat=True)
        )
        for group_id in list(crowded):
            surplus = Message.objects.using(self.using).filter(group_id=group_id)
            while True:
                pks = list(
                    surplus.order_by("-datetime", "-pk").values_list("pk", flat=True)[
                        keep : keep + self.batch_size
                    ]
                )
                if not pks:
                    break
                self.delete_pks(
                    Message, pks, f"occurrences beyond {keep} of group {group_id}"
                )

    def delete_in_batches(self, queryset, what, using=None):
        total = 0
        while True:
            pks = list(
                queryset.order_by("pk").values_list("pk", flat=True)[: self.batch_size]
            )
            if not pks:
                break
            total += self.delete_pks(
                queryset.model, pks, what, report=False, using=using
            )
            self.progress(f"{what}: {total} deleted")
        if total:
            self.progress(f"Deleted {total} {what}.", level=1)
        return total

    def delete_pks(self, model, pks, what, report=True, using=None):
        using = using or self.using
        with transaction.atomic(using=using):
            deleted, _ = model.objects.using(using).filter(pk__in=pks).delete()
        if report:
            self.progress(f"Deleted {len(pks)} {what}.", level=1)
        return len(pks)

    def progress(self, text, level=2):
        if self.verbosity >= level:
            self.stdout.write(text)
