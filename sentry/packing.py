"""
Packing: how an occurrence's ``data`` and ``traceback`` are kept on disk.

Occurrences of one error repeat each other: the same frames, file names,
source lines and keys, with only local variables, ids and times differing.
Compressed one by one, each would still pay for all of it. Instead, the
first occurrence of each group is kept once, as a *compression dictionary*
(:class:`CompressionDictionary`, one row per group), and every later
occurrence is zlib-compressed against it: what is stored is little more
than how the occurrence differs from the first (about 120 bytes of a
5 KB event, see docs/throughput.rst).

A packed value is bytes, starting with one byte that says how to read the
rest:

``0x00``
    the value as it is (UTF-8 text, or a pickle);
``0x01``
    a zlib stream, no dictionary (what an occurrence saved through the ORM
    gets, and what rows from before packing were converted to);
``0x02``
    the dictionary's id (unsigned LEB128), then a zlib stream compressed
    with that dictionary as its preset. zlib keeps the dictionary's
    Adler-32 in the stream, so a stream is never inflated with the wrong
    dictionary: a mismatch fails loudly and the dictionary is read again.

Dictionaries never change once written (but for being retired, below).
Each process keeps the ones it used last (:data:`CACHE_SIZE`).
``cleanup_sentry`` deletes those of groups that are gone, and replaces those
whose first occurrence was deleted (:func:`refresh_dictionaries`): a deleted
occurrence must not live on in its group's dictionary.
"""

import hashlib
import logging
import pickle
import threading
import zlib
from collections import OrderedDict

from django.db import connections, models, transaction
from django.utils.translation import gettext_lazy as _

from .models import SentryManager

logger = logging.getLogger("sentry.errors")

RAW = 0
ZLIB = 1
WITH_DICTIONARY = 2

#: zlib level: 6 (zlib's default) packs about 10 % smaller than 1 here, at
#: about the same cost, because the dictionary does most of the work.
LEVEL = 6
#: zlib looks back at most 32 KB: a longer dictionary keeps its end.
MAX_DICTIONARY = 32 * 1024
#: Values this short are not worth a zlib stream (its 6-byte frame).
RAW_BELOW = 24
#: Dictionaries kept per process, by id and by group.
CACHE_SIZE = 512
#: The pickle protocol of packed data.
PROTOCOL = pickle.HIGHEST_PROTOCOL


class CompressionDictionary(models.Model):
    """
    The first occurrence of a group, which its later occurrences are packed against.

    Keyed like its group (``project_id``, ``logger``, ``view``,
    ``checksum``) rather than by a foreign key, so that occurrences can be
    packed before their group row is written (outside the write
    transaction).
    """

    # One per group: two projects' groups of the same error never share
    # one (deleting one's occurrences must not leave them in the other's).
    project_id = models.PositiveIntegerField(default=1)
    logger = models.CharField(max_length=64)
    view = models.CharField(max_length=200)
    checksum = models.CharField(max_length=32)
    # SHA-1 of ``data``: what a packer checks before trusting its cache.
    digest = models.CharField(max_length=40)
    data = models.BinaryField()
    created = models.DateTimeField(auto_now_add=True)

    objects = SentryManager()

    class Meta:
        app_label = "sentry"
        verbose_name = _("compression dictionary")
        verbose_name_plural = _("compression dictionaries")
        constraints = [
            models.UniqueConstraint(
                fields=("project_id", "logger", "view", "checksum"),
                name="sentry_dictionary_project_group_key",
            )
        ]

    def __str__(self):
        return f"{self.project_id} {self.logger} {self.view} {self.checksum}"

    @property
    def key(self):
        return (self.project_id, self.logger, self.view, self.checksum)


class Dictionary:
    """A dictionary as the packer and unpacker use it (immutable)."""

    __slots__ = ("id", "digest", "data")

    def __init__(self, id, digest, data):
        self.id = id
        self.digest = digest
        self.data = data


class _Cache:
    """The dictionaries a process used last, by ``(alias, id)`` and ``(alias, key)``."""

    def __init__(self, size):
        self.size = size
        self.lock = threading.Lock()
        self.by_id = OrderedDict()
        self.by_key = OrderedDict()

    def _put(self, table, key, value):
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.size:
            table.popitem(last=False)

    def get_id(self, alias, id):
        with self.lock:
            found = self.by_id.get((alias, id))
            if found is not None:
                self.by_id.move_to_end((alias, id))
            return found

    def get_key(self, alias, key):
        with self.lock:
            return self.by_key.get((alias, key))

    def put(self, alias, dictionary, key=None):
        with self.lock:
            self._put(self.by_id, (alias, dictionary.id), dictionary)
            if key is not None:
                self._put(self.by_key, (alias, key), dictionary)

    def forget(self, alias, id=None, key=None):
        with self.lock:
            self.by_id.pop((alias, id), None)
            self.by_key.pop((alias, key), None)

    def clear(self):
        with self.lock:
            self.by_id.clear()
            self.by_key.clear()


cache = _Cache(CACHE_SIZE)


class UnreadableValue(Exception):
    """A packed value that cannot be read back."""


# --- packing and unpacking ------------------------------------------------------


def _varint(number):
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data, start):
    number = shift = 0
    for index in range(start, min(len(data), start + 10)):
        byte = data[index]
        number |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return number, index + 1
        shift += 7
    raise UnreadableValue("a packed value's dictionary id is cut short")


def pack(raw, dictionary=None):
    """Return ``raw`` bytes packed (against ``dictionary`` if given)."""
    if dictionary is not None:
        compressor = zlib.compressobj(LEVEL, zdict=dictionary.data)
        return (
            bytes((WITH_DICTIONARY,))
            + _varint(dictionary.id)
            + compressor.compress(raw)
            + compressor.flush()
        )
    if len(raw) < RAW_BELOW:
        return bytes((RAW,)) + raw
    return bytes((ZLIB,)) + zlib.compress(raw, LEVEL)


def unpack(packed, alias):
    """Return the raw bytes of a packed value read from database ``alias``."""
    packed = bytes(packed)
    if not packed:
        raise UnreadableValue("a packed value is empty")
    kind = packed[0]
    if kind == RAW:
        return packed[1:]
    try:
        if kind == ZLIB:
            return zlib.decompress(packed[1:])
        if kind == WITH_DICTIONARY:
            id, start = _read_varint(packed, 1)
            return _inflate(packed[start:], id, alias)
    except zlib.error as exc:
        raise UnreadableValue(f"a packed value is damaged: {exc}") from None
    raise UnreadableValue(f"unknown packing {kind}")


def _inflate(stream, id, alias):
    dictionary = cache.get_id(alias, id)
    if dictionary is not None:
        try:
            return _inflate_with(stream, dictionary)
        except zlib.error:
            # Not the dictionary the stream was packed with (the cache
            # outlived a deleted one): read it again.
            cache.forget(alias, id=id)
    dictionary = load(alias, id)
    if dictionary is None:
        raise UnreadableValue(f"compression dictionary {id} is missing")
    return _inflate_with(stream, dictionary)


def _inflate_with(stream, dictionary):
    inflater = zlib.decompressobj(zdict=dictionary.data)
    raw = inflater.decompress(stream)
    if not inflater.eof:
        raise zlib.error("incomplete stream")
    return raw


def load(alias, id):
    """Read dictionary ``id`` from the database (and cache it); ``None`` if gone."""
    connection = connections[alias]
    meta = CompressionDictionary._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('digest')}, {quote('data')} FROM {quote(meta.db_table)} "
            f"WHERE {quote('id')} = %s",
            [id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    dictionary = Dictionary(id, row[0], bytes(row[1]))
    cache.put(alias, dictionary)
    return dictionary


def dumps(value):
    """Return the pickle of ``data`` as packed (shaped builtins only)."""
    return pickle.dumps(value, protocol=PROTOCOL)


def loads(raw):
    return pickle.loads(raw)


# --- dictionaries of groups -------------------------------------------------------


#: A group's key: the fields that make two events one group.
KEY_FIELDS = ("project_id", "logger", "view", "checksum")


def group_key(event):
    return (event["project"], event["logger"], event["view"], event["checksum"])


def key_query(keys):
    """Return a ``Q`` matching the rows (groups or dictionaries) of ``keys``."""
    query = models.Q()
    for key in keys:
        query |= models.Q(**dict(zip(KEY_FIELDS, key, strict=True)))
    return query


def raw_values(event):
    """Return the raw ``(data, traceback)`` bytes of a prepared event."""
    data = event.get("data")
    traceback = event.get("traceback")
    return (
        None if data is None else dumps(data),
        None if traceback is None else traceback.encode("utf-8", "surrogatepass"),
    )


def dictionary_of(data, traceback):
    """Return the dictionary bytes made of an occurrence's raw values."""
    made = (data or b"") + b"\n" + (traceback or b"")
    return made[-MAX_DICTIONARY:]


def dictionaries_for(using, events):
    """
    Return ``{group key: Dictionary}`` for the groups of ``events``.

    Dictionaries missing in the database are made of the first of the
    events of their group and written (a concurrent writer may have written
    another first: then that one is used). Call it inside or outside a
    transaction; it writes only for groups seen for the first time.
    """
    found = {}
    missing = {}
    for event in events:
        key = group_key(event)
        if key in found or key in missing:
            continue
        dictionary = cache.get_key(using, key)
        if dictionary is not None:
            found[key] = dictionary
        else:
            missing[key] = event
    if missing:
        found.update(_fetch(using, list(missing)))
        new = {key: event for key, event in missing.items() if key not in found}
        if new:
            _create(using, new)
            found.update(_fetch(using, list(new)))
    return found


def _fetch(using, keys):
    found = {}
    rows = CompressionDictionary.objects.using(using)
    for start in range(0, len(keys), 100):
        part = keys[start : start + 100]
        for row in rows.filter(key_query(part)).values_list(
            "id", *KEY_FIELDS, "digest", "data"
        ):
            key = tuple(row[1:5])
            dictionary = Dictionary(row[0], row[5], bytes(row[6]))
            cache.put(using, dictionary, key)
            found[key] = dictionary
    return found


def _create(using, events_by_key):
    made = []
    for (project_id, logger_name, view, checksum), event in events_by_key.items():
        data = dictionary_of(*raw_values(event))
        made.append(
            CompressionDictionary(
                project_id=project_id,
                logger=logger_name,
                view=view,
                checksum=checksum,
                digest=hashlib.sha1(data).hexdigest(),
                data=data,
            )
        )
    CompressionDictionary.objects.using(using).bulk_create(made, ignore_conflicts=True)


def pack_events(using, events):
    """
    Pack the ``data`` and ``traceback`` of prepared events for their columns.

    Sets ``event["_packed"]`` to ``(data, traceback, dictionary)``; the
    write transaction checks with :func:`verify` that the dictionaries are
    still the ones used, so the packing itself can happen outside it.
    """
    if not events:
        return
    dictionaries = dictionaries_for(using, events)
    for event in events:
        dictionary = dictionaries.get(group_key(event))
        data, traceback = raw_values(event)
        event["_packed"] = (
            None if data is None else pack(data, dictionary),
            None if traceback is None else pack(traceback, dictionary),
            dictionary,
        )


def _present(using, ids):
    """
    Return ``{id: digest}`` of the dictionaries among ``ids``, held till commit.

    On PostgreSQL the rows are read ``FOR SHARE``: a dictionary being
    retired (:func:`retire`) waits for this transaction, or this
    transaction for the retirement, so a stream packed against it is never
    written after it was retired. SQLite has one writer at a time anyway.
    """
    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite"):
        return dict(
            CompressionDictionary.objects.using(using)
            .filter(pk__in=ids)
            .values_list("id", "digest")
        )
    quote = connection.ops.quote_name
    # Plain SQL on SQLite too: the ORM's query cost more to build than to run.
    share = " ORDER BY 1 FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('id')}, {quote('digest')} "
            f"FROM {quote(CompressionDictionary._meta.db_table)} "
            f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(ids))}){share}",
            ids,
        )
        return dict(cursor.fetchall())


def verify(using, events):
    """
    Repack, in the current transaction, events whose dictionary is gone.

    A dictionary is deleted with its group, or retired when its first
    occurrence is deleted (``cleanup_sentry``, the admin); one a packer had
    cached may have been deleted or retired since, and a new one made in
    its place. One query per batch makes sure every dictionary an event was
    packed with is in the database as it was used.
    """
    used = {}
    for event in events:
        packed = event.get("_packed")
        if packed is None or packed[2] is None:
            continue
        used[packed[2].id] = packed[2].digest
    if not used:
        return
    present = _present(using, list(used))
    stale = {id for id, digest in used.items() if present.get(id) != digest}
    if not stale:
        return
    for id in stale:
        cache.forget(using, id=id)
    repack = [
        event
        for event in events
        if event.get("_packed")
        and event["_packed"][2]
        and event["_packed"][2].id in stale
    ]
    for event in repack:
        cache.forget(using, key=group_key(event))
    pack_events(using, repack)


# --- when occurrences are deleted -------------------------------------------------
#
# A dictionary is made of its group's first occurrence: deleting that
# occurrence must not leave its data in the dictionary. Replacing one
# happens in steps, each a short transaction, so that a large group never
# holds the write lock for long:
#
# 1. retire: the old dictionary leaves the group's key (its ``checksum``
#    becomes ``retired:<id>``, its ``digest`` ``r:<group checksum>``) and a
#    new one, made of the group's oldest remaining occurrence, takes it. A
#    packer that packed against the old one finds, in its write transaction,
#    that its digest changed (:func:`verify`, which on PostgreSQL holds the
#    row ``FOR SHARE`` until it commits, so that retiring waits for it) and
#    packs against the new one: once retired, no new row uses the old one.
# 2. repack: the occurrences still packed against it, a batch at a time.
# 3. delete it.
#
# A run cut short leaves a retired dictionary, which the next run finishes.

RETIRED = "retired:"
#: Occurrences re-packed per transaction.
REPACK_BATCH = 500


def _message_model():
    from .models import Message

    return Message


def _group_model():
    from .models import GroupedMessage

    return GroupedMessage


def _read_packed(using, pks):
    """Return ``{pk: (data, traceback)}``: the packed columns of occurrences."""
    Message = _message_model()
    connection = connections[using]
    quote = connection.ops.quote_name
    meta = Message._meta
    found = {}
    with connection.cursor() as cursor:
        for start in range(0, len(pks), REPACK_BATCH):
            part = pks[start : start + REPACK_BATCH]
            cursor.execute(
                f"SELECT {quote('id')}, {quote(meta.get_field('data').column)}, "
                f"{quote(meta.get_field('traceback').column)} "
                f"FROM {quote(meta.db_table)} "
                f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(part))})",
                part,
            )
            for pk, data, traceback in cursor.fetchall():
                found[pk] = (
                    None if data is None else bytes(data),
                    None if traceback is None else bytes(traceback),
                )
    return found


def _dictionary_id(packed):
    """Return the id of the dictionary a packed value needs, or ``None``."""
    if packed is None or packed[:1] != bytes((WITH_DICTIONARY,)):
        return None
    try:
        return _read_varint(packed, 1)[0]
    except UnreadableValue:
        return None


def _source_of(using, pk):
    """Return the dictionary bytes occurrence ``pk`` would make, or ``None``."""
    return _sources_of(using, [pk]).get(pk)


def _first_source(using, group_id, tries=10):
    """
    Return ``(pk, dictionary bytes)`` of a group's oldest readable occurrence.

    ``(None, None)`` when the group has none among its ``tries`` oldest.
    """
    pks = list(
        _message_model()
        .objects.using(using)
        .filter(group_id=group_id)
        .order_by("pk")
        .values_list("pk", flat=True)[:tries]
    )
    made = _sources_of(using, pks)
    for pk in pks:
        if pk in made:
            return pk, made[pk]
    return None, None


def _sources_of(using, pks):
    """Return ``{pk: dictionary bytes}`` the occurrences ``pks`` would make."""
    made = {}
    for pk, packed in _read_packed(using, pks).items():
        try:
            data, traceback = (None if v is None else unpack(v, using) for v in packed)
        except UnreadableValue:
            continue
        made[pk] = dictionary_of(data, traceback)
    return made


def refresh_dictionaries(
    using, group_ids=None, batch_size=REPACK_BATCH, project_id=None
):
    """
    Replace dictionaries whose first occurrence is gone; return how many.

    A dictionary is kept while the oldest remaining occurrence of its group
    would make the same dictionary (it is the one it was made of, or a copy
    of it); otherwise it is replaced by one made of that occurrence, or
    deleted when none is left. ``group_ids`` limits the work to those groups
    (the admin's deletes), ``project_id`` to one project's
    (``cleanup_sentry --project``); otherwise every dictionary is looked at
    (``cleanup_sentry``): a query or two per ``batch_size`` dictionaries.
    Dictionaries of groups that are gone are left to ``cleanup_sentry``.
    """
    from django.db.models import Min

    GroupedMessage, Message = _group_model(), _message_model()
    dictionaries = CompressionDictionary.objects.using(using).order_by("pk")
    if project_id is not None:
        dictionaries = dictionaries.filter(project_id=project_id)
    if group_ids is not None:
        keys = list(
            GroupedMessage.objects.using(using)
            .filter(pk__in=list(group_ids))
            .values_list(*KEY_FIELDS)
        )
        if not keys:
            return 0
        dictionaries = dictionaries.filter(key_query(keys))
    replaced = 0
    last = 0
    while True:
        batch = list(dictionaries.filter(pk__gt=last)[:batch_size])
        if not batch:
            return replaced
        last = batch[-1].pk
        retired = [d for d in batch if d.checksum.startswith(RETIRED)]
        for dictionary in retired:
            _finish(using, dictionary)
            replaced += 1
        current = [d for d in batch if not d.checksum.startswith(RETIRED)]
        groups = {}
        for start in range(0, len(current), 100):
            query = key_query(d.key for d in current[start : start + 100])
            for group in GroupedMessage.objects.using(using).filter(query):
                groups[(group.project_id, group.logger, group.view, group.checksum)] = (
                    group
                )
        by_key = {d.key: d for d in current}
        found = {key: group for key, group in groups.items() if key in by_key}
        firsts = dict(
            Message.objects.using(using)
            .filter(group_id__in=[group.pk for group in found.values()])
            .values("group_id")
            .annotate(first=Min("pk"))
            .values_list("group_id", "first")
        )
        for d in current:
            # Unpacking the first occurrences needs them: no query each.
            cache.put(using, Dictionary(d.pk, d.digest, bytes(d.data)))
        made = _sources_of(using, list(firsts.values()))
        for key, group in found.items():
            dictionary = by_key[key]
            first = firsts.get(group.pk)
            source = made.get(first)
            if first is not None and source is None:
                # Unreadable (damaged): the oldest readable one stands in.
                source = _first_source(using, group.pk)[1]
            if source is not None and source == bytes(dictionary.data):
                continue
            if retire(using, group, dictionary):
                _finish(using, dictionary)
                replaced += 1


def retire(using, group, dictionary):
    """
    Step 1: hand a group's key over to a dictionary of its oldest occurrence.

    Return whether ``dictionary`` was retired (``False``: it changed or
    turned out to be still good, in the meantime). The group's title
    (message, class, traceback) is taken from that occurrence too: it was
    the deleted one's.
    """
    from .db import take_write_lock
    from .search import index as search_index

    GroupedMessage, Message = _group_model(), _message_model()
    with transaction.atomic(using=using):
        take_write_lock(using, CompressionDictionary)
        # The group first, then the dictionary: the order writers lock them in.
        group = (
            GroupedMessage.objects.using(using)
            .select_for_update()
            .filter(pk=group.pk)
            .first()
        )
        locked = (
            CompressionDictionary.objects.using(using)
            .select_for_update()
            .filter(pk=dictionary.pk, digest=dictionary.digest)
            .first()
        )
        if group is None or locked is None:
            return False
        first, made = _first_source(using, group.pk)
        if made is not None and made == bytes(locked.data):
            return False
        CompressionDictionary.objects.using(using).filter(pk=locked.pk).update(
            checksum=f"{RETIRED}{locked.pk}", digest=f"r:{locked.checksum}"
        )
        if made is not None:
            CompressionDictionary.objects.using(using).create(
                project_id=locked.project_id,
                logger=locked.logger,
                view=locked.view,
                checksum=locked.checksum,
                digest=hashlib.sha1(made).hexdigest(),
                data=made,
            )
            first = Message.objects.using(using).get(pk=first)
            GroupedMessage.objects.using(using).filter(pk=group.pk).update(
                message=first.message,
                class_name=first.class_name,
                traceback=first.traceback,
            )
            # Its search text is that occurrence's now.
            search_index.reindex(using, [group.pk])
    cache.forget(using, id=locked.pk, key=locked.key)
    return True


def _finish(using, dictionary):
    """Steps 2 and 3: re-pack what uses a retired dictionary, then delete it."""
    GroupedMessage, Message = _group_model(), _message_model()
    retired = CompressionDictionary.objects.using(using).filter(pk=dictionary.pk)
    row = retired.values_list(*KEY_FIELDS, "digest").first()
    if row is None:
        return
    project_id, logger_name, view, checksum, digest = row
    if not checksum.startswith(RETIRED):
        return
    key = (project_id, logger_name, view, digest[2:])
    group_id = (
        GroupedMessage.objects.using(using)
        .filter(key_query([key]))
        .values_list("pk", flat=True)
        .first()
    )
    if group_id is not None:
        rows = Message.objects.using(using).filter(group_id=group_id).order_by("pk")
        last = 0
        while True:
            pks = list(
                rows.filter(pk__gt=last).values_list("pk", flat=True)[:REPACK_BATCH]
            )
            if not pks:
                break
            last = pks[-1]
            _repack(using, pks, dictionary.pk, key)
    cache.forget(using, id=dictionary.pk)
    retired.delete()


def _repack(using, pks, old_id, key):
    """Re-pack, in one transaction, the occurrences among ``pks`` using ``old_id``."""
    from .db import take_write_lock

    Message = _message_model()
    connection = connections[using]
    quote = connection.ops.quote_name
    meta = Message._meta
    binary = connection.Database.Binary
    with transaction.atomic(using=using):
        take_write_lock(using, Message)
        packed = _read_packed(using, pks)
        stale = {
            pk: values
            for pk, values in packed.items()
            if old_id in (_dictionary_id(values[0]), _dictionary_id(values[1]))
        }
        if not stale:
            return
        cache.forget(using, key=key)
        new = _fetch(using, [key]).get(key)
        with connection.cursor() as cursor:
            for pk, values in stale.items():
                try:
                    repacked = [
                        None if v is None else binary(pack(unpack(v, using), new))
                        for v in values
                    ]
                except UnreadableValue:
                    # Damaged already: it reads as unreadable either way.
                    continue
                cursor.execute(
                    f"UPDATE {quote(meta.db_table)} SET "
                    f"{quote(meta.get_field('data').column)} = %s, "
                    f"{quote(meta.get_field('traceback').column)} = %s "
                    f"WHERE {quote('id')} = %s",
                    [*repacked, pk],
                )


def delete_orphans(using, keys):
    """Delete the dictionaries of ``keys`` whose group is gone; return how many."""
    GroupedMessage = _group_model()
    deleted = 0
    for key in keys:
        if GroupedMessage.objects.using(using).filter(key_query([key])).exists():
            continue
        deleted += (
            CompressionDictionary.objects.using(using)
            .filter(key_query([key]))
            .delete()[0]
        )
        cache.forget(using, key=key)
    return deleted
