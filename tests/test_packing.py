"""Occurrences are stored packed against their group's first occurrence."""

import logging

import pytest
from django.core import serializers
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from sentry import packing
from sentry.client.models import client
from sentry.models import CompressionDictionary, GroupedMessage, Message
from tests.factories import raise_and_capture

pytestmark = pytest.mark.django_db


def capture_in_checkout(order_id):
    """The same error each time, with other local variables."""
    basket = {"order": order_id, "items": [f"sku-{order_id}-{n}" for n in range(5)]}
    try:
        {}[basket["order"]]
    except KeyError:
        return client.create_from_exception(url=f"http://shop.example/o/{order_id}")


def last_frame(message):
    return message.data["exception"]["values"][-1]["stacktrace"]["frames"][-1]


def stored_bytes(message_id):
    """The columns as stored: ``(data, traceback)`` bytes."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('data')}, {quote('traceback')} FROM sentry_message "
            f"WHERE {quote('message_id')} = %s",
            [message_id],
        )
        data, traceback = cursor.fetchone()
    return bytes(data), bytes(traceback)


def test_occurrences_of_one_error_share_one_dictionary_and_read_back_whole():
    ids = [capture_in_checkout(n) for n in range(5)]

    assert CompressionDictionary.objects.count() == 1
    assert GroupedMessage.objects.get().times_seen == 5
    for n, message_id in enumerate(ids):
        message = Message.objects.get(message_id=message_id)
        assert last_frame(message)["vars"]["basket"]["order"] == n
        assert message.traceback.startswith("Traceback (most recent call last):")
        assert "KeyError" in message.traceback


def test_a_later_occurrence_costs_a_fraction_of_its_plain_compressed_size():
    capture_in_checkout(1)
    message_id = capture_in_checkout(2)

    data, traceback = stored_bytes(message_id)
    assert data[0] == packing.WITH_DICTIONARY
    assert traceback[0] == packing.WITH_DICTIONARY
    message = Message.objects.get(message_id=message_id)
    plain = packing.pack(packing.dumps(message.data))
    assert plain[0] == packing.ZLIB
    assert len(data) * 4 < len(plain)
    assert len(traceback) < 60


def test_every_occurrence_is_counted_and_packed_through_the_digest(client, settings):
    from tests.ingest_factories import (
        event_envelope,
        exception_event,
        make_key,
        post_envelope,
    )

    settings.SENTRY_DIGEST = "inline"
    key = make_key()
    for n in range(3):
        event = exception_event()
        event["exception"]["values"][-1]["value"] = f"bad {n}"
        response = post_envelope(client, event_envelope(event), key)
        assert response.status_code == 200

    assert CompressionDictionary.objects.count() == 1
    messages = Message.objects.order_by("message")
    assert [m.message for m in messages] == [f"ValueError: bad {n}" for n in range(3)]
    for message in messages:
        assert last_frame(message)["function"]
        assert "ValueError" in message.traceback


def test_an_occurrence_saved_through_the_orm_is_packed_on_its_own():
    group = GroupedMessage.objects.create(
        message="hello",
        checksum="c",
        first_seen=timezone.now(),
        last_seen=timezone.now(),
    )
    message = Message.objects.create(
        group=group,
        message_id="a" * 32,
        message="hello",
        checksum="c",
        datetime=timezone.now(),
        server_name="web",
        data={"extra": {"answer": 42}, "text": "é" * 100},
        traceback="Traceback: short",
    )

    data, traceback = stored_bytes(message.message_id)
    assert data[0] == packing.ZLIB
    assert traceback[0] == packing.RAW
    again = Message.objects.get(pk=message.pk)
    assert again.data == {"extra": {"answer": 42}, "text": "é" * 100}
    assert again.traceback == "Traceback: short"
    Message.objects.filter(pk=message.pk).update(data=None, traceback=None)
    again = Message.objects.get(pk=message.pk)
    assert (again.data, again.traceback) == (None, None)


def test_packed_columns_only_compare_with_none():
    capture_in_checkout(1)

    assert Message.objects.filter(data__isnull=False).count() == 1
    assert Message.objects.filter(traceback=None).count() == 0
    assert Message.objects.exclude(data=None).count() == 1
    with pytest.raises(FieldError, match="only be compared with None"):
        Message.objects.filter(data={"a": 1}).count()
    with pytest.raises(FieldError, match="Unsupported lookup"):
        Message.objects.filter(traceback__icontains="KeyError").count()
    # The group's columns are plain text, searchable as before.
    assert GroupedMessage.objects.filter(traceback__icontains="KeyError").count() == 1


def test_a_dictionary_replaced_behind_a_process_cache_is_noticed():
    capture_in_checkout(1)
    first = CompressionDictionary.objects.get()
    # Gone and made again (other content, the same id) by someone else,
    # while this process still has the old one cached.
    CompressionDictionary.objects.all().delete()
    CompressionDictionary.objects.create(
        pk=first.pk,
        logger=first.logger,
        view=first.view,
        checksum=first.checksum,
        digest="0" * 40,
        data=b"something else entirely" * 10,
    )

    message_id = capture_in_checkout(2)

    # Packed against the dictionary in the database, not the cached one...
    message = Message.objects.get(message_id=message_id)
    assert last_frame(message)["vars"]["basket"]["order"] == 2
    # ...and read back with it, although the cache held the other.
    packing.cache.clear()
    assert Message.objects.get(message_id=message_id).traceback.startswith("Traceback")


def test_an_occurrence_whose_dictionary_is_missing_reads_as_unreadable(caplog):
    message_id = capture_in_checkout(1)
    CompressionDictionary.objects.all().delete()
    packing.cache.clear()

    with caplog.at_level(logging.ERROR, logger="sentry.errors"):
        message = Message.objects.get(message_id=message_id)

    assert "missing" in message.data["_unreadable"]
    assert message.traceback.startswith("(unreadable")
    assert "compression dictionary" in caplog.text


def test_a_group_page_with_an_unreadable_occurrence_still_renders(admin_client):
    message_id = capture_in_checkout(1)
    CompressionDictionary.objects.all().delete()
    packing.cache.clear()
    message = Message.objects.get(message_id=message_id)

    response = admin_client.get(message.get_absolute_url())

    assert response.status_code == 200


def test_cleanup_deletes_the_dictionaries_of_groups_that_are_gone():
    capture_in_checkout(1)
    raise_and_capture(ValueError("other"))
    assert CompressionDictionary.objects.count() == 2
    GroupedMessage.objects.filter(class_name="KeyError").update(
        last_seen=timezone.now() - timezone.timedelta(days=40)
    )

    call_command("cleanup_sentry", days=30, verbosity=0)

    assert CompressionDictionary.objects.count() == 1
    message = Message.objects.get()
    assert message.class_name == "ValueError"
    packing.cache.clear()
    assert Message.objects.get().data == message.data


def test_dumpdata_and_loaddata_keep_the_values():
    message_id = capture_in_checkout(1)
    message = Message.objects.get(message_id=message_id)
    text = serializers.serialize("json", [message])
    Message.objects.all().delete()
    CompressionDictionary.objects.all().delete()

    for obj in serializers.deserialize("json", text):
        obj.save()

    again = Message.objects.get(message_id=message_id)
    assert again.data == message.data
    assert again.traceback == message.traceback


@pytest.mark.django_db(transaction=True)
def test_the_migration_converts_stored_rows_both_ways():
    executor = MigrationExecutor(connection)
    before = [("sentry", "0005_queuedevent")]
    # Forwards all the way: the occurrences below are captured by today's code.
    after = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)
        from base64 import b64encode
        from pickle import dumps
        from zlib import compress

        old_data = {"extra": {"n": 1}, "text": "x" * 200}
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO sentry_message (logger, class_name, level, message, "
                f"traceback, {quote('view')}, checksum, data, message_id, "
                f"{quote('datetime')}, url, server_name, site) VALUES "
                "('root', 'E', 40, 'm', %s, '', 'c', %s, %s, %s, NULL, 'web', NULL)",
                [
                    "Traceback (most recent call last):\n  boom\nE: m",
                    b64encode(compress(dumps(old_data, 2))).decode(),
                    "b" * 32,
                    timezone.now(),
                ],
            )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        packing.cache.clear()

        message = Message.objects.get(message_id="b" * 32)
        assert message.data == old_data
        assert message.traceback.endswith("E: m")
        # Occurrences packed against a dictionary go back to the old form too.
        newer = capture_in_checkout(7)
        capture_in_checkout(8)
        expected = Message.objects.get(message_id=newer).data

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT data, traceback FROM sentry_message WHERE message_id = %s",
                [newer],
            )
            data, traceback = cursor.fetchone()
        from picklefield.fields import dbsafe_decode

        assert dbsafe_decode(data, True) == expected
        assert traceback.startswith("Traceback (most recent call last):")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        packing.cache.clear()


@pytest.mark.parametrize("pk", [127, 128, 300, 2**35 + 5])
def test_dictionary_ids_of_any_size_read_back(pk):
    made = CompressionDictionary.objects.create(
        pk=pk,
        logger="l",
        view="v",
        checksum="c",
        digest="d",
        data=b"spam and eggs " * 9,
    )
    dictionary = packing.Dictionary(made.pk, made.digest, bytes(made.data))
    packed = packing.pack(b"spam and eggs, eggs and spam", dictionary)
    packing.cache.clear()

    assert packing.unpack(packed, "default") == b"spam and eggs, eggs and spam"
