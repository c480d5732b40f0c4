"""
``manage.py cleanup_sentry``: delete old occurrences and empty groups.

Deletes in small batches, each in its own short transaction, so the site
keeps recording and serving while it runs; safe to run again and again from
cron. ``times_seen`` and the per-value counts keep counting every occurrence
ever seen; only the stored rows (and per-minute and per-project hourly trend
rows) go.
"""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from sentry import packing
from sentry.conf import settings
from sentry.constants import LEVELS_BY_NAME
from sentry.db import get_write_alias
from sentry.models import (
    CompressionDictionary,
    FilterValue,
    GroupedMessage,
    Message,
    MessageCountByMinute,
    MessageFilterValue,
    ProjectCountByHour,
)
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


class Command(BaseCommand):
    help = (
        "Delete occurrences older than --days, then groups not seen since, and "
        "queued events set aside more than SENTRY_QUEUE_SET_ASIDE_DAYS ago."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=30, help="Keep this many days (default: 30)."
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

    def handle(self, *args, days, logger, level, keep, batch_size, **options):
        if days < 0 or batch_size < 1:
            raise CommandError("--days must be >= 0 and --batch-size >= 1.")
        self.verbosity = options["verbosity"]
        self.batch_size = batch_size
        self.using = get_write_alias(Message)
        cutoff = timezone.now() - dt.timedelta(days=days)
        match = {}
        if logger:
            match["logger"] = logger
        if level is not None:
            match["level"] = parse_level(level)

        messages = Message.objects.using(self.using).filter(
            datetime__lt=cutoff, **match
        )
        self.delete_in_batches(messages, "occurrences")

        group_match = {f"group__{key}": value for key, value in match.items()}
        minutes = MessageCountByMinute.objects.using(self.using).filter(
            date__lt=cutoff, **group_match
        )
        self.delete_in_batches(minutes, "per-minute counts")
        if not match:
            # A project's hours mix every logger and level: only a run for
            # all of them deletes its old ones.
            hours = ProjectCountByHour.objects.using(self.using).filter(date__lt=cutoff)
            self.delete_in_batches(hours, "per-project hourly counts")

        groups = GroupedMessage.objects.using(self.using).filter(
            last_seen__lt=cutoff, **match
        )
        self.delete_in_batches(groups, "groups")

        keep = settings.MAX_OCCURRENCES_PER_GROUP if keep is None else keep
        if keep:
            self.keep_newest(keep, match)

        unused = FilterValue.objects.using(self.using).filter(
            ~Exists(
                MessageFilterValue.objects.using(self.using).filter(
                    key=OuterRef("key"), value=OuterRef("value")
                )
            )
        )
        self.delete_in_batches(unused, "unused filter values")

        # Occurrences are packed against their group's first one (see
        # sentry.packing): a dictionary whose occurrence was deleted (here,
        # in the admin, or by any other delete since the last run) is
        # replaced by one of a remaining occurrence, and it goes with its
        # group.
        replaced = packing.refresh_dictionaries(self.using)
        if replaced:
            self.progress(f"Replaced {replaced} compression dictionaries.", level=1)
        orphans = CompressionDictionary.objects.using(self.using).filter(
            ~Exists(
                GroupedMessage.objects.using(self.using).filter(
                    logger=OuterRef("logger"),
                    view=OuterRef("view"),
                    checksum=OuterRef("checksum"),
                )
            ),
            # Being replaced (by the admin, now): the replacement deletes it.
            ~Q(checksum__startswith=packing.RETIRED),
        )
        self.delete_in_batches(orphans, "compression dictionaries")
        packing.cache.clear()
        self.forget_digested()
        # Set-aside events have no logger or level: --days applies to them
        # only when the run is not limited to some errors.
        self.purge_set_aside(days if not match else None)

    def purge_set_aside(self, days=None):
        """Delete queued events set aside more than SENTRY_QUEUE_SET_ASIDE_DAYS ago."""
        keep = settings.QUEUE_SET_ASIDE_DAYS
        days = keep if days is None else min(days, keep)
        queue_using = get_queue_alias()
        old = QueuedEvent.objects.using(queue_using).filter(
            failed=True, received__lt=time.time() - days * 86400
        )
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

    def keep_newest(self, keep, match):
        """Delete all but the ``keep`` newest occurrences of every group."""
        crowded = (
            Message.objects.using(self.using)
            .filter(**match)
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
