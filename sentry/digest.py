"""
Digest: turn queued events into groups, occurrences and counters, in batches.

:func:`drain` claims batches of :class:`~sentry.queue.QueuedEvent` rows and
hands each to :func:`digest_batch`, which reads every row into a prepared
event (mapping, shaping, scrubbing, grouping: the same
:func:`sentry.pipeline.prepare` as the synchronous path), applies the flood
guard, and stores the batch with :func:`sentry.storage.store_batch` -- one
transaction that also deletes the rows, so an event is counted exactly once
however often a batch is retried. With the queue in a database of its own
(``SENTRY_QUEUE_DATABASE``) that transaction records the batch's ids
instead, and the rows are deleted after it (:func:`_store_apart`).

A bad event never blocks the queue:

* an event that cannot be read (mapping or preparing raises) is set aside at
  once (``failed``, with the error) and logged to ``sentry.errors``;
* a batch that the database refuses is retried one event at a time, and the
  event the database still refuses on its own is set aside;
* a row that was claimed before and is still there (a digest died on it) is
  digested on its own; after ``SENTRY_DIGEST_MAX_ATTEMPTS`` claims it is set
  aside.

Database trouble (lost connection, lock timeout) sets nothing aside: the rows
are released and retried later.
"""

import datetime as dt
import json
import logging
import threading
import time

from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connections,
    transaction,
)

from . import packing, pipeline, postprocess, queue
from .conf import settings
from .db import (
    get_write_alias,
    give_back_free_pages,
    in_host_transaction,
    run_in_transaction,
    take_write_lock,
    truncate_log,
)
from .ingest import mapping
from .jsondata import shape_and_scrub
from .models import Message
from .queue import QueuedEvent
from .scrubbing import Scrubber
from .sourcemaps.resolve import resolve_payload
from .storage import StoreResult, make_storable, store_batch
from .utils.shaping import Shaper

logger = logging.getLogger("sentry.errors")

#: Errors that say nothing about the events: release them, try again later.
TRANSIENT = (OperationalError, InterfaceError)


class _Key:
    """What the mapping needs of a client key: the site events are filed under."""

    __slots__ = ("label",)

    def __init__(self, label):
        self.label = label


def read_event(row, scrubber=None, shaper=None):
    """
    Return the prepared event of a queue row (raise if it cannot be read).

    ``scrubber`` and ``shaper`` may be shared by the rows of a batch.
    """
    payload = json.loads(row.decode())
    if not isinstance(payload, dict):
        raise ValueError("the payload is not a JSON object")
    received = dt.datetime.fromtimestamp(row.received, dt.UTC)
    key = _Key(row.site)
    kind = row.kind
    if kind == queue.KIND_EVENT:
        apply_sourcemaps(payload, row.project_id)
        event = mapping.map_event(
            payload,
            key=key,
            event_id=row.event_id,
            received=received,
            sent_at=row.sent_at,
            client_ip=row.client_ip,
        )
    elif kind == queue.KIND_FEEDBACK:
        event = mapping.map_feedback(
            payload,
            key=key,
            event_id=row.event_id,
            received=received,
            client_ip=row.client_ip,
        )
    elif kind == queue.KIND_USER_REPORT:
        event = mapping.map_user_report(payload, key=key, received=received)
    elif kind in (queue.KIND_REMOTE, queue.KIND_CLIENT):
        event = mapping.map_remote_event(payload, received=received)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    # The id the endpoint answered with is the id the occurrence is stored
    # under, even when the payload's own was missing or malformed.
    event["message_id"] = row.event_id
    # The key's project (or the client's): never one the payload names.
    event["project"] = row.project_id
    return pipeline.prepare(event, scrubber=scrubber, shaper=shaper, parsed=True)


def apply_sourcemaps(payload, project_id=None):
    """
    Resolve an event's minified JavaScript frames with the uploaded maps.

    Before mapping, so that the traceback, culprit and group checksum are
    those of the original code. A failure leaves the frames as sent: an
    event is never set aside for its source maps.
    """
    try:
        resolve_payload(payload, project_id)
    except Exception:
        # Database trouble included: better an event stored as sent than
        # one set aside as unreadable.
        logger.error("Unable to apply source maps to an event", exc_info=True)


class Report:
    """What a drain did: digested, duplicates, set aside, batches."""

    __slots__ = ("digested", "duplicates", "set_aside", "batches")

    def __init__(self):
        self.digested = self.duplicates = self.set_aside = self.batches = 0

    def add(self, other):
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def __repr__(self):
        return (
            f"<Report digested={self.digested} duplicates={self.duplicates} "
            f"set_aside={self.set_aside} batches={self.batches}>"
        )


def digest_batch(using, rows):
    """Digest claimed queue rows; return a :class:`Report`."""
    report = Report()
    report.batches = 1
    suspects = [row for row in rows if row.attempts > 1]
    rows = [row for row in rows if row.attempts <= 1]
    for row in suspects:
        # Claimed before and still here: a digest died with it. Alone, so
        # that it cannot take a batch down with it again.
        if row.attempts > settings.DIGEST_MAX_ATTEMPTS:
            # Not read again: reading it may be what killed the digests.
            set_aside(
                using,
                [row],
                f"claimed {row.attempts - 1} times, never digested",
                keep_payload=False,
            )
            report.set_aside += 1
        else:
            report.add(_digest(using, [row], alone=True))
    if rows:
        report.add(_digest(using, rows, alone=False))
    return report


def _digest(using, rows, alone):
    report = Report()
    events, readable, unreadable = [], [], []
    scrubber, shaper = Scrubber(), Shaper()
    for row in rows:
        try:
            events.append(read_event(row, scrubber, shaper))
            readable.append(row)
        except Exception as exc:
            logger.error(
                "Unable to read queued event %s (%s): set aside",
                row.event_id,
                row.kind,
                exc_info=True,
            )
            unreadable.append((row, exc))
    for row, exc in unreadable:
        set_aside(using, [row], f"unreadable: {exc!r}")
        report.set_aside += 1
    if not events:
        return report
    try:
        results = _store(using, events, readable)
    except TRANSIENT:
        release(using, readable)
        raise
    except Exception as exc:
        if alone:
            logger.error(
                "Unable to store queued event %s: set aside",
                readable[0].event_id,
                exc_info=True,
            )
            set_aside(using, readable, f"not stored: {exc!r}")
            report.set_aside += 1
            return report
        # One of them, most likely: find it by storing them one by one.
        for row in readable:
            report.add(_digest(using, [row], alone=True))
        return report
    for result in results:
        if result.duplicate:
            report.duplicates += 1
        else:
            report.digested += 1
    postprocess.schedule(events, results, get_store_alias(using))
    return report


def _store(using, events, rows):
    store_using = get_store_alias(using)
    for event in events:
        # Before packing: the packed traceback is read back as text.
        make_storable(event)
    # Packing costs more than the SQL: done before the write transaction,
    # against the dictionaries of the database the events are stored in,
    # for the events this process's cache expects the flood guard to keep.
    # A guess only: the guard decides in the transaction, from the group's
    # row, and what it keeps unpacked is packed there (see storage).
    likely = [not pipeline.check_flood(event) for event in events]
    packing.pack_events(
        store_using,
        [event for event, keep in zip(events, likely, strict=True) if keep],
    )
    if store_using != using:
        return _store_apart(using, store_using, events, rows)
    ids = [row.pk for row in rows]

    def delete_rows(using):
        QueuedEvent.objects.using(using).filter(pk__in=ids).delete()

    with transaction.atomic(using=using):
        return store_batch(using, events, before_commit=delete_rows)


def get_store_alias(using):
    """Return the alias events from the queue on ``using`` are stored to."""
    if settings.QUEUE_DATABASE:
        return get_write_alias(Message)
    return using


def _store_apart(using, store_using, events, rows):
    """
    Store a batch whose queue is in another database; return the results.

    No transaction spans two databases, so exactly once rests on the main
    one: its store transaction records the batch's ids
    (:func:`sentry.queue.mark_digested`) and counts only the events not
    recorded before. The queue rows are deleted after it commits; when a
    crash comes in between, the batch is replayed and counts nothing again.
    Ids are forgotten once their queue rows are gone: those of the previous
    batch in this transaction, the last batch's at the end of the drain.
    """
    forget = _forgettable(store_using)
    forgetting = list(forget)
    with transaction.atomic(using=store_using):
        if forgetting:
            queue.forget_digested(store_using, forgetting)
        fresh = queue.mark_digested(store_using, [row.event_id for row in rows])
        chosen = [i for i, row in enumerate(rows) if row.event_id in fresh]
        stored = store_batch(store_using, [events[i] for i in chosen])
    del forget[: len(forgetting)]
    results = []
    for event in events:
        # Stored (or counted) by an earlier run of this batch.
        result = StoreResult(event["message_id"], stored=False)
        result.duplicate = True
        results.append(result)
    for index, result in zip(chosen, stored, strict=True):
        results[index] = result
    try:
        with transaction.atomic(using=using):
            QueuedEvent.objects.using(using).filter(
                pk__in=[row.pk for row in rows]
            ).delete()
    except DatabaseError:
        # Stored and recorded: digested again, they count nothing.
        logger.warning(
            "Stored %d queued events but could not delete their queue rows; "
            "they will be digested again and count nothing",
            len(rows),
            exc_info=True,
        )
    else:
        forget += [row.event_id for row in rows]
    return results


_local = threading.local()


def _forgettable(store_using):
    """Return this thread's digested ids whose queue rows are gone."""
    pending = getattr(_local, "forget", None)
    if pending is None:
        pending = _local.forget = {}
    return pending.setdefault(store_using, [])


def forget_digested(store_using):
    """Forget this thread's digested ids whose queue rows are gone, now."""
    forget = _forgettable(store_using)
    if not forget:
        return
    forgetting = list(forget)
    try:
        with transaction.atomic(using=store_using):
            queue.forget_digested(store_using, forgetting)
    except DatabaseError:
        # The next batch, or the next drain's prune, forgets them.
        return
    del forget[: len(forgetting)]


def set_aside(using, rows, error, keep_payload=True):
    """
    Keep rows out of the digest, with the reason (admin, logs), scrubbed.

    A row's payload is the event as it arrived, secrets included, and a set
    aside row stays until ``cleanup_sentry`` purges it
    (``SENTRY_QUEUE_SET_ASIDE_DAYS``): what is kept is the payload parsed,
    shaped and scrubbed by key as the digest would have, or nothing when it
    does not parse (or ``keep_payload`` is false).
    """
    # An exception's text may quote the event.
    error = Scrubber().text(error[:2000])
    with transaction.atomic(using=using):
        for row in rows:
            payload, note = scrubbed_payload(row) if keep_payload else (b"", "")
            if not keep_payload:
                note = f"; payload of {len(row.payload)} bytes dropped"
            QueuedEvent.objects.using(using).filter(pk=row.pk).update(
                failed=True, lease_until=0, error=error + note, payload=payload
            )


def scrubbed_payload(row):
    """Return ``(payload, note)``: a row's payload scrubbed, or dropped."""
    size = len(row.payload)
    try:
        parsed = json.loads(row.decode())
        if not isinstance(parsed, dict):
            raise ValueError("not a JSON object")
        scrubbed = shape_and_scrub(parsed, Shaper(), Scrubber())
        body = json.dumps(scrubbed, ensure_ascii=False, default=repr).encode()
    except Exception as exc:
        return b"", f"; payload of {size} bytes dropped ({type(exc).__name__})"
    return queue.compress(body), "; payload kept scrubbed"


def release(using, rows):
    """Give claimed rows back, not counting this claim (database trouble)."""
    try:
        with transaction.atomic(using=using):
            take_write_lock(using, QueuedEvent)
            for row in rows:
                QueuedEvent.objects.using(using).filter(pk=row.pk).update(
                    lease_until=0, attempts=max(row.attempts - 1, 0)
                )
    except DatabaseError:
        # Their leases run out by themselves.
        pass


def drain(using=None, batch_size=None, max_batches=None, deadline=None, steal=False):
    """
    Digest queued events until none is free; return a :class:`Report`.

    ``using`` is the queue's database (default: where ``QueuedEvent`` is
    written); events are stored where ``Message`` is. ``max_batches`` and
    ``deadline`` (a :func:`time.monotonic` value) bound the work; ``steal``
    takes leased rows too (see :func:`sentry.queue.claim`).
    """
    using = using or get_write_alias(QueuedEvent)
    store_using = get_store_alias(using)
    batch_size = batch_size or settings.DIGEST_BATCH_SIZE
    report = Report()
    if _must_wait_for_host(using, store_using):
        transaction.on_commit(
            lambda: drain(using, batch_size, max_batches, deadline, steal),
            using=store_using if in_host_transaction(store_using) else using,
        )
        return report
    if store_using != using:
        # Ids a dead digest could not forget.
        queue.prune_digested(store_using, using)
    try:
        while max_batches is None or report.batches < max_batches:
            if deadline is not None and time.monotonic() >= deadline:
                break
            claimed = run_in_transaction(
                lambda using: queue.claim(
                    using, batch_size, settings.DIGEST_LEASE, steal=steal
                ),
                using,
            )
            if not claimed:
                if report.batches:
                    # Emptied: the pages the raw payloads took go back
                    # (beyond some room for the next burst), and the
                    # payloads leave the log.
                    give_back_free_pages(using)
                    truncate_log(using)
                break
            rows = queue.load(using, claimed)
            if rows:
                report.add(digest_batch(using, rows))
            checkpoint(store_using)
            if store_using != using:
                checkpoint(using)
    finally:
        if store_using != using:
            forget_digested(store_using)
    return report


def _must_wait_for_host(using, store_using):
    """
    Return whether a transaction of the host must end before digesting.

    SQLite has one writer: a claim (or a store) made inside the host's
    transaction would only be written when it ends. And with the queue in a
    database of its own, a store joined to the host's transaction would not
    be committed when the queue rows are deleted.
    """
    for alias in {using, store_using}:
        if not in_host_transaction(alias):
            continue
        if connections[alias].vendor == "sqlite" or (
            alias == store_using and store_using != using
        ):
            return True
    return False


def checkpoint(using):
    """
    Copy SQLite's write-ahead log into the database, off the request path.

    In WAL mode the commit that finds the log over 1,000 pages copies it
    back itself, fsync included: with events arriving at hundreds a second
    that is an accepting request every few seconds, stalled for a hundred
    milliseconds or more. Checkpointing here after each batch keeps the log
    short, so that accepting requests never have to. ``PASSIVE`` waits for
    nobody and blocks nobody.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except DatabaseError:
        pass
