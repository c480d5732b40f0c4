"""A deleted occurrence leaves nothing behind in its group's compression dictionary.

The dictionary is made of a group's first occurrence. When that occurrence
is deleted (``cleanup_sentry``, the admin, any ORM delete followed by
``cleanup_sentry``), the group's remaining occurrences are re-packed against
a dictionary made of one of them, and the old dictionary is deleted.
"""

import datetime as dt
import threading
import time
import uuid

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import RequestFactory
from django.utils import timezone

from sentry import packing, pipeline
from sentry.admin import GroupedMessageAdmin, MessageAdmin
from sentry.client.models import client
from sentry.models import CompressionDictionary, GroupedMessage, Message
from sentry.storage import store_batch
from tests.complexity import assert_linear, cost

pytestmark = pytest.mark.django_db


def new_marker():
    return f"marker-{uuid.uuid4().hex}"


def capture(secret, order_id):
    """The same error each time; ``secret`` in a local variable and the text."""
    remark = secret  # noqa: F841 - captured with the frame's variables
    basket = {"order": order_id, "note": secret}
    try:
        {}[basket["order"]]
    except KeyError:
        return client.create_from_exception(
            url=f"http://shop.example/o/{order_id}", data={"note": secret}
        )


def all_bytes():
    """Every stored byte of occurrences, groups and dictionaries."""
    found = b""
    for row in CompressionDictionary.objects.values_list("data", flat=True):
        found += bytes(row)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('data')}, {quote('traceback')}, {quote('message')} "
            "FROM sentry_message"
        )
        for data, traceback, message in cursor.fetchall():
            found += bytes(data or b"") + bytes(traceback or b"")
            found += message.encode()
            # Packed values: what they read back as.
            for packed in (data, traceback):
                try:
                    found += packing.unpack(packed, "default") if packed else b""
                except packing.UnreadableValue:
                    pass  # damaged on purpose
        cursor.execute(
            f"SELECT {quote('message')}, {quote('traceback')} "
            "FROM sentry_groupedmessage"
        )
        for message, traceback in cursor.fetchall():
            found += (message + (traceback or "")).encode()
    return found


def first_is_old_and_secret():
    """A group whose first occurrence holds a marker, and three later ones."""
    marker = new_marker()
    first = capture(marker, 0)
    later = [capture("nothing to see", n) for n in range(1, 4)]
    Message.objects.filter(message_id=first).update(
        datetime=timezone.now() - dt.timedelta(days=60)
    )
    assert marker.encode() in all_bytes()
    return marker, first, later


def assert_readable(message_ids):
    for message in Message.objects.filter(message_id__in=message_ids):
        assert message.data["extra"]["note"] == "nothing to see"
        assert "KeyError" in message.traceback
        assert not str(message.data).startswith("{'_unreadable'")


def test_cleanup_deleting_the_first_occurrence_replaces_its_dictionary():
    marker, first, later = first_is_old_and_secret()
    old = CompressionDictionary.objects.get().pk

    call_command("cleanup_sentry", days=30, verbosity=0)

    assert not Message.objects.filter(message_id=first).exists()
    assert marker.encode() not in all_bytes()
    assert CompressionDictionary.objects.get().pk != old
    assert_readable(later)


def test_occurrences_stored_after_the_replacement_use_the_new_dictionary():
    marker, first, later = first_is_old_and_secret()
    call_command("cleanup_sentry", days=30, verbosity=0)

    more = [capture("nothing to see", n) for n in range(10, 13)]

    assert CompressionDictionary.objects.count() == 1
    assert marker.encode() not in all_bytes()
    assert_readable(later + more)


def test_cleanup_keeping_the_newest_replaces_the_dictionary_of_the_first():
    marker, first, later = first_is_old_and_secret()

    call_command("cleanup_sentry", days=365, keep=3, verbosity=0)

    assert Message.objects.count() == 3
    assert marker.encode() not in all_bytes()
    assert_readable(later)


def test_deleting_the_first_occurrence_in_the_admin_replaces_its_dictionary(
    admin_user,
):
    marker, first, later = first_is_old_and_secret()
    request = RequestFactory().post("/")
    request.user = admin_user
    model_admin = MessageAdmin(Message, admin_site)

    model_admin.delete_model(request, Message.objects.get(message_id=first))

    assert marker.encode() not in all_bytes()
    assert_readable(later)


def test_deleting_several_occurrences_in_the_admin_replaces_their_dictionary(
    admin_user,
):
    marker, first, later = first_is_old_and_secret()
    request = RequestFactory().post("/")
    request.user = admin_user
    model_admin = MessageAdmin(Message, admin_site)

    model_admin.delete_queryset(
        request, Message.objects.filter(message_id__in=[first, later[0]])
    )

    assert marker.encode() not in all_bytes()
    assert_readable(later[1:])


def test_an_orm_delete_is_caught_up_by_the_next_cleanup():
    marker, first, later = first_is_old_and_secret()
    Message.objects.filter(message_id=first).delete()
    assert marker.encode() in all_bytes()

    call_command("cleanup_sentry", days=3650, verbosity=0)

    assert marker.encode() not in all_bytes()
    assert_readable(later)


def test_a_group_with_no_occurrence_left_keeps_no_dictionary():
    marker, first, later = first_is_old_and_secret()
    Message.objects.all().delete()

    call_command("cleanup_sentry", days=3650, verbosity=0)

    assert GroupedMessage.objects.count() == 1
    assert CompressionDictionary.objects.count() == 0
    # The next occurrence gets a dictionary again.
    message_id = capture("nothing to see", 99)
    assert CompressionDictionary.objects.count() == 1
    assert_readable([message_id])


def test_a_dictionary_whose_first_occurrence_survives_is_left_alone():
    marker = new_marker()
    ids = [capture(marker, n) for n in range(3)]
    before = CompressionDictionary.objects.get().pk
    Message.objects.filter(message_id=ids[-1]).update(
        datetime=timezone.now() - dt.timedelta(days=60)
    )

    call_command("cleanup_sentry", days=30, verbosity=0)

    assert CompressionDictionary.objects.get().pk == before
    assert Message.objects.count() == 2


def test_a_replacement_interrupted_half_way_is_finished_by_the_next_cleanup():
    marker, first, later = first_is_old_and_secret()
    Message.objects.filter(message_id=first).delete()
    group = GroupedMessage.objects.get()
    old = CompressionDictionary.objects.get()
    # What the first step leaves: the old one retired, a new one in its place.
    packing.retire(connection.alias, group, old)

    call_command("cleanup_sentry", days=3650, verbosity=0)

    assert CompressionDictionary.objects.count() == 1
    assert marker.encode() not in all_bytes()
    assert_readable(later)


def test_a_packer_holding_the_old_dictionary_repacks_against_the_new_one():
    marker, first, later = first_is_old_and_secret()
    Message.objects.filter(message_id=first).delete()
    old = CompressionDictionary.objects.get()
    key = (old.logger, old.view, old.checksum)
    packing.retire(connection.alias, GroupedMessage.objects.get(), old)
    # Another process's cache still holds the old dictionary.
    packing.cache.put(
        "default", packing.Dictionary(old.pk, old.digest, bytes(old.data)), key
    )

    more = capture("nothing to see", 50)
    packing.refresh_dictionaries("default")

    assert CompressionDictionary.objects.count() == 1
    assert marker.encode() not in all_bytes()
    assert_readable(later + [more])


@pytest.mark.django_db(transaction=True)
def test_an_occurrence_written_while_the_dictionary_is_replaced_is_repacked():
    marker, first, later = first_is_old_and_secret()
    Message.objects.filter(message_id=first).delete()
    group = GroupedMessage.objects.get()
    event = pipeline.prepare(
        {
            "message": "0",
            "logger": group.logger,
            "view": group.view,
            "checksum": group.checksum,
            "traceback": "Traceback (most recent call last):\nKeyError: 0",
            "data": {"extra": {"note": "nothing to see"}},
        },
        shaped=True,
    )
    verified, go = threading.Event(), threading.Event()

    def hold(using):
        # Packed against the old dictionary and verified: not committed yet.
        verified.set()
        go.wait(10)

    def write():
        try:
            with transaction.atomic():
                store_batch("default", [event], before_commit=hold)
        finally:
            connections.close_all()

    def replace():
        try:
            packing.refresh_dictionaries("default")
        finally:
            connections.close_all()

    writer = threading.Thread(target=write)
    writer.start()
    assert verified.wait(10)
    replacer = threading.Thread(target=replace)
    replacer.start()
    time.sleep(0.3)
    # The replacement waits for the writer's transaction.
    assert replacer.is_alive()
    go.set()
    writer.join(10)
    replacer.join(20)

    assert CompressionDictionary.objects.count() == 1
    assert marker.encode() not in all_bytes()
    assert_readable(later + [event["message_id"]])


def group_of(count):
    """``count`` occurrences of one error, its first deleted and its dictionary
    retired: what re-packing the rest starts from."""
    Message.objects.all().delete()
    GroupedMessage.objects.all().delete()
    CompressionDictionary.objects.all().delete()
    packing.cache.clear()
    events = [
        pipeline.prepare(
            {
                "message": "0",
                "logger": "shop",
                "checksum": "c" * 32,
                "traceback": f"Traceback (most recent call last):\nKeyError: {n}",
                "data": {"extra": {"note": "nothing to see", "n": n}},
            },
            shaped=True,
        )
        for n in range(count)
    ]
    with transaction.atomic():
        store_batch("default", events)
    Message.objects.filter(message_id=events[0]["message_id"]).delete()
    dictionary = CompressionDictionary.objects.get()
    packing.retire("default", GroupedMessage.objects.get(), dictionary)
    return dictionary


def test_repacking_a_group_takes_linear_time():
    def once(run, value, repeat):
        # A run re-packs its input for good: measured once per input.
        return cost(run, value)

    assert_linear(
        lambda d: packing.refresh_dictionaries("default"),
        group_of,
        100,
        max_n=800,
        clock=once,
    )


def test_checking_the_dictionaries_costs_a_few_queries_per_batch(
    django_assert_max_num_queries,
):
    for n in range(30):
        client.create_from_text(f"error number {n}", data={"n": n})
    assert CompressionDictionary.objects.count() == 30
    packing.cache.clear()

    with django_assert_max_num_queries(8):
        assert packing.refresh_dictionaries("default") == 0


def test_a_damaged_occurrence_does_not_stop_the_replacement():
    marker, first, later = first_is_old_and_secret()
    damaged = Message.objects.get(message_id=later[0])
    dictionary_id = CompressionDictionary.objects.get().pk
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE sentry_message SET {quote('data')} = %s WHERE id = %s",
            [bytes((2,)) + packing._varint(dictionary_id) + b"garbage", damaged.pk],
        )

    call_command("cleanup_sentry", days=30, verbosity=0)
    replacement = CompressionDictionary.objects.get().pk
    call_command("cleanup_sentry", days=30, verbosity=0)

    # Made of the oldest readable occurrence, and kept from then on.
    assert CompressionDictionary.objects.get().pk == replacement
    assert marker.encode() not in all_bytes()
    assert_readable(later[1:])


def test_deleting_a_group_in_the_admin_deletes_its_dictionary(admin_user):
    marker, first, later = first_is_old_and_secret()
    request = RequestFactory().post("/")
    request.user = admin_user
    model_admin = GroupedMessageAdmin(GroupedMessage, admin_site)

    model_admin.delete_model(request, GroupedMessage.objects.get())

    assert CompressionDictionary.objects.count() == 0
    assert marker.encode() not in all_bytes()
