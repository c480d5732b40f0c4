"""
``manage.py sentry_fill_occurrences``: fill in the release, environment and
user columns of the occurrences stored before migration 0024.

Those occurrences keep them only inside their packed data, so the occurrences
tab shows them empty and ``environment:`` / ``release:`` do not find them.
The command reads the occurrences whose three columns are empty, lowest id
first, ``--batch`` at a time, and writes each batch in a transaction of its
own: the digest never waits long for the database's write lock. Safe to stop
and to run again; ``--after`` starts past an id a run printed. Occurrences
whose event had none of the three are read again by every run (nothing marks
them).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ...db import get_write_alias
from ...models import Message
from ...occurrences import event_columns

COLUMNS = ("release", "environment", "user")
MAX_BATCH = 10_000


class Command(BaseCommand):
    help = (
        "Fill in the release, environment and user of the occurrences stored "
        "before migration 0024 (read from their data), a batch at a time."
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
        empty = Message.objects.using(using).filter(
            **{f"{name}__isnull": True for name in COLUMNS}
        )
        read = filled = 0
        last = after
        while True:
            rows = list(
                empty.filter(pk__gt=last).order_by("pk").only("pk", "data")[:batch]
            )
            if not rows:
                break
            changed = []
            for row in rows:
                columns = event_columns(row.data)
                if any(columns.values()):
                    for name in COLUMNS:
                        setattr(row, name, columns[name])
                    changed.append(row)
            with transaction.atomic(using=using):
                Message.objects.using(using).bulk_update(changed, COLUMNS)
            read += len(rows)
            filled += len(changed)
            last = rows[-1].pk
            if options["verbosity"] > 1:
                self.stdout.write(f"... up to id {last}: {filled:,} filled")
        self.stdout.write(
            f"Filled {filled:,} of the {read:,} occurrences read (up to id {last})."
        )
