"""
The ingest queue: accepted events waiting to be digested.

An ingest endpoint answers 200 once the event's row is committed here:
accepted means durable, with no other service to run. The row holds the
event as it arrived (JSON, compressed when large) and what the digest needs
to read it; the digest (:mod:`sentry.digest`) turns batches of rows into
groups, occurrences and counters.

By default the queue is in the same database as everything else, and the
digest deletes a batch's rows in the transaction that stores it, so each
event is counted exactly once even when a process is killed halfway. With
``SENTRY_QUEUE_DATABASE`` the queue has a database of its own (on SQLite,
so that accepting never waits for the digest's write lock); the store
transaction then records the ids it digested in :class:`DigestedEvent`, in
the main database, and a batch replayed after a crash between that commit
and the deletion of its queue rows counts nothing again.

``event_id`` is unique: an event sent twice while it waits is queued once
(and once digested, its ``Message`` row makes a re-sent copy count nothing).

Importable as ``sentry.models.QueuedEvent``.
"""

import time
import zlib

from django.db import connections, models, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from .conf import settings
from .db import get_write_alias, take_write_lock
from .models import SentryManager

#: What a row holds, and so how the digest reads it.
KIND_EVENT = "event"  # a Sentry event (envelope item or store body)
KIND_FEEDBACK = "feedback"  # a feedback envelope item
KIND_USER_REPORT = "user_report"  # a legacy user report item
KIND_REMOTE = "remote"  # a classic remote client's event (store/)
KIND_CLIENT = "client"  # this site's own event, from the queued client
KINDS = (KIND_EVENT, KIND_FEEDBACK, KIND_USER_REPORT, KIND_REMOTE, KIND_CLIENT)

#: zlib level of large payloads: they live for seconds, speed matters more.
COMPRESSION_LEVEL = 1
#: Payloads up to this size are kept as they came: compressing a typical
#: event costs more of the accept path's time than writing it.
COMPRESS_ABOVE = 16 * 1024


class QueueManager(models.Manager):
    """Send queries to ``SENTRY_QUEUE_DATABASE`` (or ``SENTRY_DATABASE_USING``)."""

    def get_queryset(self):
        queryset = super().get_queryset()
        alias = settings.QUEUE_DATABASE or settings.DATABASE_USING
        if self._db is None and alias:
            queryset = queryset.using(alias)
        return queryset


class QueuedEvent(models.Model):
    """An accepted event, waiting for the digest."""

    event_id = models.CharField(_("event id"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=16)
    # Unix time: when it arrived (the digest's "now" for plausibility checks).
    received = models.FloatField(_("received"))
    payload = models.BinaryField(_("payload"))
    site = models.CharField(_("site"), max_length=128, blank=True, null=True)
    # The project it is filed under (its key's); no foreign key, since the
    # queue may live in a database of its own. Empty: the default project.
    project_id = models.PositiveIntegerField(_("project id"), blank=True, null=True)
    client_ip = models.CharField(_("client IP"), max_length=45, blank=True, null=True)
    sent_at = models.CharField(_("sent at"), max_length=64, blank=True, null=True)
    # Times a digest took the row: more than once means a digest died on it.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Unix time until which a digest has the row; 0: free.
    lease_until = models.FloatField(_("leased until"), default=0)
    # Set aside: the event could not be digested (see ``error``).
    failed = models.BooleanField(_("set aside"), default=False)
    error = models.TextField(_("error"), blank=True, default="")

    objects = QueueManager()

    class Meta:
        app_label = "sentry"
        verbose_name = _("queued event")
        verbose_name_plural = _("queued events")
        indexes = [
            # The digest's claim: free rows, oldest first.
            models.Index(
                fields=("failed", "lease_until", "id"), name="sentry_queue_claim"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.event_id}"

    def decode(self):
        """Return the payload as JSON bytes."""
        return decompress(bytes(self.payload))


def compress(data):
    """Return JSON bytes as a queue row keeps them (zlib when large)."""
    if len(data) <= COMPRESS_ABOVE:
        return data
    return zlib.compress(data, COMPRESSION_LEVEL)


def decompress(data):
    # JSON starts with "{" (or whitespace); a zlib stream with 0x78.
    return zlib.decompress(data) if data[:1] == b"\x78" else data


def _storable(text):
    # PostgreSQL's text columns cannot hold NUL (see sentry.storage.storable).
    if text is None or "\x00" not in text:
        return text
    return text.replace("\x00", "\ufffd")


class Entry:
    """One event to queue: what :func:`enqueue` writes."""

    __slots__ = (
        "event_id",
        "kind",
        "payload",
        "site",
        "project_id",
        "client_ip",
        "sent_at",
    )

    def __init__(
        self,
        event_id,
        kind,
        payload,
        site=None,
        client_ip=None,
        sent_at=None,
        project_id=None,
    ):
        self.event_id = event_id
        self.kind = kind
        self.payload = payload  # JSON bytes, not compressed yet
        self.site = site
        self.project_id = project_id
        self.client_ip = client_ip
        self.sent_at = sent_at


#: The columns :func:`enqueue` writes, in its statement's order.
INSERT_COLUMNS = (
    "event_id",
    "kind",
    "received",
    "payload",
    "site",
    "project_id",
    "client_ip",
    "sent_at",
    "attempts",
    "lease_until",
    "failed",
    "error",
)

_insert_statements = {}


def insert_statement(connection, rows):
    """Return the ``INSERT`` of ``rows`` queue rows (kept for small batches)."""
    key = (connection.vendor, rows)
    sql = _insert_statements.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        row = "(" + ", ".join(["%s"] * len(INSERT_COLUMNS)) + ")"
        sql = (
            f"INSERT INTO {quote(QueuedEvent._meta.db_table)} "
            f"({', '.join(quote(c) for c in INSERT_COLUMNS)}) "
            f"VALUES {', '.join([row] * rows)} "
            f"ON CONFLICT ({quote('event_id')}) DO NOTHING"
        )
        # Built once per process: every accepted envelope ran this (14
        # quote_name calls). An envelope holds one event or a few.
        if rows <= 8:
            _insert_statements[key] = sql
    return sql


def enqueue(using, entries, received=None):
    """
    Insert ``entries`` in the current transaction; skip ids already queued.

    One statement, whatever the number of entries: the accept path's only
    write.
    """
    if not entries:
        return
    received = time.time() if received is None else received
    connection = connections[using]
    params = []
    for entry in entries:
        params += [
            entry.event_id,
            entry.kind,
            received,
            compress(entry.payload),
            _storable(entry.site),
            entry.project_id,
            _storable(entry.client_ip),
            _storable(entry.sent_at),
            0,
            0.0,
            False,
            "",
        ]
    with connection.cursor() as cursor:
        cursor.execute(insert_statement(connection, len(entries)), params)


def claim(using, batch_size, lease, steal=False):
    """
    Take up to ``batch_size`` free rows, oldest first; return ``(id, attempts)`` pairs.

    Run in a transaction of its own, committed before the rows are read and
    digested (:func:`load`): each row's ``attempts`` goes up and it is leased
    for ``lease`` seconds, so that a digest that dies on it is noticed and
    others leave it alone meanwhile. Only ids are read here: on SQLite this
    transaction holds the database's write lock, which accepting requests
    wait for, and payloads can be read after it. On PostgreSQL, concurrent
    digests skip each other's locked rows (``FOR UPDATE SKIP LOCKED``) and
    work in parallel. ``steal`` takes leased rows too: for a digest that
    knows it is the only one (SQLite's drain lock), a lease can only be left
    over from one that died.
    """
    now = time.time()
    rows = QueuedEvent.objects.using(using).filter(failed=False)
    if not steal:
        rows = rows.filter(lease_until__lt=now)
    rows = rows.order_by("id")
    if connections[using].features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    take_write_lock(using, QueuedEvent)
    claimed = list(rows.values_list("pk", "attempts")[:batch_size])
    if claimed:
        QueuedEvent.objects.using(using).filter(
            pk__in=[pk for pk, _ in claimed]
        ).update(attempts=F("attempts") + 1, lease_until=now + lease)
    return [(pk, attempts + 1) for pk, attempts in claimed]


def load(using, claimed):
    """Return the rows of :func:`claim`'s ``(id, attempts)`` pairs, oldest first."""
    attempts = dict(claimed)
    rows = list(QueuedEvent.objects.using(using).filter(pk__in=attempts).order_by("id"))
    for row in rows:
        # As claimed, whatever a concurrent release wrote since.
        row.attempts = attempts[row.pk]
    return rows


def pending(using):
    """Return whether any row waits to be digested (leased or not)."""
    return QueuedEvent.objects.using(using).filter(failed=False).exists()


def get_queue_alias():
    """Return the alias of the database the queue lives in."""
    return get_write_alias(QueuedEvent)


# --- exactly once across two databases ----------------------------------------


class DigestedEvent(models.Model):
    """
    A queued event the digest has stored while its queue row may still exist.

    Only used when the queue has a database of its own
    (``SENTRY_QUEUE_DATABASE``): the store transaction, in the main database,
    inserts the ids of the batch here, and the queue rows are deleted in the
    queue's database afterwards. A batch replayed after a crash in between
    finds its ids here and counts nothing again -- events the flood guard
    counted without a ``Message`` row included. Ids are deleted again once
    their queue rows are gone (:func:`forget_digested`, :func:`prune_digested`):
    the table holds about one batch.
    """

    event_id = models.CharField(_("event id"), max_length=32, primary_key=True)

    objects = SentryManager()

    class Meta:
        app_label = "sentry"
        verbose_name = _("digested event")
        verbose_name_plural = _("digested events")

    def __str__(self):
        return self.event_id


#: Ids per statement: far below SQLite's and PostgreSQL's parameter limits.
IDS_PER_STATEMENT = 500


def mark_digested(using, event_ids):
    """
    Record ``event_ids`` as digested in the current transaction; return the
    set of those that were not recorded before.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per 500 ids: an id
    recorded before -- or by a concurrent transaction, which on PostgreSQL
    this one waits for -- is not returned, and its event must count nothing.
    Sorted, so that concurrent digests take the index entries in one order.
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(DigestedEvent._meta.db_table)
    fresh = set()
    ids = sorted(set(event_ids))
    with connection.cursor() as cursor:
        for start in range(0, len(ids), IDS_PER_STATEMENT):
            part = ids[start : start + IDS_PER_STATEMENT]
            cursor.execute(
                f"INSERT INTO {table} ({quote('event_id')}) "
                f"VALUES {', '.join(['(%s)'] * len(part))} "
                f"ON CONFLICT ({quote('event_id')}) DO NOTHING "
                f"RETURNING {quote('event_id')}",
                part,
            )
            fresh.update(row[0] for row in cursor.fetchall())
    return fresh


def forget_digested(using, event_ids):
    """Delete digested ids whose queue rows are gone (current transaction)."""
    ids = sorted(set(event_ids))
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        DigestedEvent.objects.using(using).filter(
            event_id__in=ids[start : start + IDS_PER_STATEMENT]
        ).delete()


def prune_digested(store_using, queue_using, limit=5000):
    """
    Forget digested ids whose queue rows are gone; return how many.

    For ids a digest could not forget itself (it died after deleting the
    queue rows). An id whose row is still queued stays: its batch may be
    replayed. Safe against concurrent digests: an id is only ever recorded
    while its queue row exists, so a row found missing after the id was read
    is gone for good.
    """
    ids = list(
        DigestedEvent.objects.using(store_using).values_list("event_id", flat=True)[
            :limit
        ]
    )
    if not ids:
        return 0
    queued = set()
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        queued.update(
            QueuedEvent.objects.using(queue_using)
            .filter(event_id__in=ids[start : start + IDS_PER_STATEMENT])
            .values_list("event_id", flat=True)
        )
    gone = [event_id for event_id in ids if event_id not in queued]
    if gone:
        with transaction.atomic(using=store_using):
            forget_digested(store_using, gone)
    return len(gone)
