"""
``manage.py sentry_fill_occurrences``: give the occurrences stored before an
upgrade what the occurrences tab reads of them.

- Migration 0025 gave each occurrence its release, environment and user as
  columns: those stored before it keep them only inside their packed data.
- Migration 0028 links each occurrence to its other values (tags, the
  user's fields: ``OccurrenceValue``): those stored before it have none, so
  ``tenant:acme`` or ``user.id:42`` does not find them among occurrences.

The command reads the occurrences that have no link, lowest id first,
``--batch`` at a time, fills in the columns of those whose three are empty,
links each to the group's counters of its values, and writes each batch in
a transaction of its own: the digest never waits long for the database's
write lock. Safe to stop and to run again (what a run linked is not read
again); ``--after`` starts past an id a run printed. Occurrences with no
value to link (no tag, no user) are read again by every run. A value is
linked only if its group counts it (a group recorded before the counters of
migration 0018 may not).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Exists, OuterRef

from ...db import get_write_alias, insert_new
from ...models import Message, MessageFilterValue, OccurrenceValue
from ...occurrences import event_columns
from ...tags import OCCURRENCE_COLUMN_KEYS, event_values

COLUMNS = ("release", "environment", "user")
MAX_BATCH = 10_000
#: Values looked up in one query (within every database's parameter limit).
LOOKUP = 500


class Command(BaseCommand):
    help = (
        "Fill in what the occurrences tab reads of the occurrences stored "
        "before migrations 0025 and 0028 (read from their data), a batch at a time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch",
            type=int,
            default=1000,
            help=f"Occurrences read and written per transaction (1 to {MAX_BATCH:,};"
            " default 1,000).",
        )
        parser.add_argument(
            "--after",
            type=int,
            default=0,
            help="Start after this occurrence id (the last one a run printed).",
        )

    def handle(self, *args, batch, after, **options):
        if not 1 <= batch <= MAX_BATCH:
            raise CommandError(f"--batch must be from 1 to {MAX_BATCH:,}.")
        using = get_write_alias(Message)
        # Those without a link: stored before migration 0028, or by a
        # process still running older code, or left by a run stopped midway
        # (the (message, value) index answers for each at once).
        occurrences = Message.objects.using(using).filter(
            ~Exists(
                OccurrenceValue.objects.using(using).filter(message_id=OuterRef("pk"))
            )
        )
        read = filled = linked = 0
        last = after
        while True:
            rows = list(
                occurrences.filter(pk__gt=last)
                .order_by("pk")
                .only("pk", "group_id", "data", *COLUMNS)[:batch]
            )
            if not rows:
                break
            changed = []
            for row in rows:
                if all(getattr(row, name) is None for name in COLUMNS):
                    columns = event_columns(row.data)
                    if any(columns.values()):
                        for name in COLUMNS:
                            setattr(row, name, columns[name])
                        changed.append(row)
            links = _links(using, rows)
            with transaction.atomic(using=using):
                Message.objects.using(using).bulk_update(changed, COLUMNS)
                linked += len(
                    insert_new(
                        using, OccurrenceValue, links, unique=("message_id", "value_id")
                    )
                )
            read += len(rows)
            filled += len(changed)
            last = rows[-1].pk
            if options["verbosity"] > 1:
                self.stdout.write(
                    f"... up to id {last}: {filled:,} filled, {linked:,} linked"
                )
        self.stdout.write(
            f"Filled {filled:,} of the {read:,} occurrences read and linked "
            f"{linked:,} values (up to id {last})."
        )


def _links(using, rows):
    """Return the ``OccurrenceValue`` rows of ``rows``: their values' counters."""
    values_of = {}
    wanted = {}
    for row in rows:
        if row.group_id is None:
            continue
        values_of[row.pk] = [
            (key, value)
            for key, value in event_values({"data": row.data})
            if key not in OCCURRENCE_COLUMN_KEYS
        ]
        wanted.setdefault(row.group_id, set()).update(values_of[row.pk])
    ids = {}
    counters = MessageFilterValue.objects.using(using)
    for group_id, pairs in wanted.items():
        values = sorted({value for _, value in pairs})
        keys = sorted({key for key, _ in pairs})
        for start in range(0, len(values), LOOKUP):
            found = counters.filter(
                group_id=group_id,
                key__in=keys,
                value__in=values[start : start + LOOKUP],
            ).values_list("pk", "key", "value")
            for pk, key, value in found:
                ids[(group_id, key, value)] = pk
    return [
        {"value_id": ids[(row.group_id, *pair)], "message_id": row.pk}
        for row in rows
        for pair in values_of.get(row.pk, ())
        if (row.group_id, *pair) in ids
    ]
