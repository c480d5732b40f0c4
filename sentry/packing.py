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

Dictionaries never change once written. Each process keeps the ones it used
last (:data:`CACHE_SIZE`). ``cleanup_sentry`` deletes those of groups that
are gone.
"""

import hashlib
import logging
import pickle
import threading
import zlib
from collections import OrderedDict

from django.db import connections, models
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

    Keyed like its group (``logger``, ``view``, ``checksum``) rather than
    by a foreign key, so that occurrences can be packed before their group
    row is written (outside the write transaction).
    """

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
                fields=("logger", "view", "checksum"),
                name="sentry_dictionary_group_key",
            )
        ]

    def __str__(self):
        return f"{self.logger} {self.view} {self.checksum}"


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


def group_key(event):
    return (event["logger"], event["view"], event["checksum"])


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
        query = models.Q()
        for logger_name, view, checksum in part:
            query |= models.Q(logger=logger_name, view=view, checksum=checksum)
        for row in rows.filter(query).values_list(
            "id", "logger", "view", "checksum", "digest", "data"
        ):
            key = tuple(row[1:4])
            dictionary = Dictionary(row[0], row[4], bytes(row[5]))
            cache.put(using, dictionary, key)
            found[key] = dictionary
    return found


def _create(using, events_by_key):
    made = []
    for (logger_name, view, checksum), event in events_by_key.items():
        data = dictionary_of(*raw_values(event))
        made.append(
            CompressionDictionary(
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


def verify(using, events):
    """
    Repack, in the current transaction, events whose dictionary is gone.

    A dictionary is deleted only with its group (``cleanup_sentry``); one a
    packer had cached may have been deleted since, and a new one made in
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
    present = dict(
        CompressionDictionary.objects.using(using)
        .filter(pk__in=list(used))
        .values_list("id", "digest")
    )
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
