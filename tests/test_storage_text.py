"""Text columns: whatever characters an event carries, it is recorded and readable.

PostgreSQL's text columns cannot hold U+0000: a NUL anywhere in a stored
field used to make the whole event unrecordable there (``create_from_*``
returned ``None``, the digest set the event aside). Every text written to a
column now has NUL replaced by U+FFFD, on every database.
"""

import logging

import pytest
from django.test import override_settings

from sentry import queue
from sentry.client.handlers import SentryHandler
from sentry.client.models import client
from sentry.client.queued import QueuedSentryClient
from sentry.digest import drain
from sentry.models import FilterValue, GroupedMessage, Message, MessageFilterValue
from sentry.storage import TEXT_FIELDS, event_values, make_storable, storable
from tests.complexity import assert_linear
from tests.factories import raise_and_capture
from tests.ingest_factories import exception_event, make_key, post_events

pytestmark = pytest.mark.django_db

NUL = "\x00"
MARK = "\ufffd"
queued_only = override_settings(SENTRY_DIGEST="worker", SENTRY_THRASHING_LIMIT=0)


def text_columns_of(message):
    """Return every text a stored occurrence and its group hold in columns."""
    group = message.group
    texts = [
        message.message,
        message.logger,
        message.class_name or "",
        message.view,
        message.url or "",
        message.server_name,
        message.site or "",
        message.traceback or "",
        group.message,
        group.logger,
        group.class_name or "",
        group.view,
        group.traceback or "",
    ]
    texts += [
        text
        for pair in MessageFilterValue.objects.filter(group=group).values_list(
            "key", "value"
        )
        for text in pair
    ]
    filter_values = FilterValue.objects.values_list("key", "value")
    texts += [text for pair in filter_values for text in pair]
    return texts


def assert_recorded_without_nul(message_id):
    assert message_id is not None
    message = Message.objects.get(message_id=message_id)
    texts = text_columns_of(message)
    assert not [text for text in texts if NUL in text]
    # Readable back, packed columns included.
    assert isinstance(message.data, dict)
    return message


def test_storable_replaces_nul_by_the_replacement_character():
    assert storable(f"a{NUL}b{NUL}") == f"a{MARK}b{MARK}"
    assert storable("plain") == "plain"
    assert storable(None) is None


def test_create_from_text_with_nul_in_every_field_is_recorded():
    message_id = client.create_from_text(
        f"disk{NUL}full",
        logger=f"shop{NUL}orders",
        url=f"http://example.com/a{NUL}b",
        view=f"shop.views{NUL}.checkout",
        server_name=f"web{NUL}01",
        site=f"shop{NUL}",
        tags={f"tenant{NUL}": f"acme{NUL}"},
        data={"extra": f"kept{NUL}"},
    )

    message = assert_recorded_without_nul(message_id)
    assert message.message == f"disk{MARK}full"
    assert message.logger == f"shop{MARK}orders"
    assert message.server_name == f"web{MARK}01"
    assert MessageFilterValue.objects.filter(
        key=f"tag:tenant{MARK}", value=f"acme{MARK}"
    ).exists()
    # The pickled data is bytes: it keeps what was sent.
    assert message.data["extra"] == {"extra": f"kept{NUL}"}


def test_create_from_exception_with_nul_in_its_value_is_recorded():
    message_id = raise_and_capture(
        ValueError(f"value{NUL}with nul"), url=f"/a{NUL}", view=f"v{NUL}"
    )

    message = assert_recorded_without_nul(message_id)
    assert message.message == f"value{MARK}with nul"
    assert f"value{MARK}with nul" in message.traceback


def test_a_log_record_with_nul_is_recorded_by_the_handler():
    handler = SentryHandler()
    record = logging.LogRecord(
        f"shop{NUL}", logging.ERROR, __file__, 1, f"coupon %s{NUL}", ("x\x00y",), None
    )

    handler.emit(record)

    message = assert_recorded_without_nul(Message.objects.get().message_id)
    assert message.logger == f"shop{MARK}"
    assert message.message == f"coupon x{MARK}y{MARK}"


def test_an_event_seen_again_with_nul_joins_its_group():
    first = client.create_from_text(f"a{NUL}b", logger=f"l{NUL}")
    second = client.create_from_text(f"a{NUL}b", logger=f"l{NUL}")

    assert first and second
    assert GroupedMessage.objects.get().times_seen == 2


@queued_only
def test_an_sdk_event_with_nul_in_every_field_is_digested(client):
    key = make_key()
    event = exception_event(
        message=f"checkout{NUL}failed",
        logger=f"shop{NUL}orders",
        server_name=f"web{NUL}01",
        culprit=f"orders{NUL}.divide",
        transaction=f"/checkout/{NUL}",
        tags={f"tenant{NUL}": f"acme{NUL}", "plain": f"x{NUL}"},
        request={"url": f"http://example.com/pay{NUL}", "method": "POST"},
    )
    event["exception"]["values"][-1]["value"] = f"could not{NUL}compute"
    event["exception"]["values"][-1]["type"] = f"Value{NUL}Error"

    post_events(client, key, [event])
    report = drain()

    assert (report.digested, report.set_aside) == (1, 0)
    message = assert_recorded_without_nul(event["event_id"])
    assert message.server_name == f"web{MARK}01"
    assert message.logger == f"shop{MARK}orders"


@queued_only
def test_the_queued_client_records_an_event_with_nul():
    message_id = QueuedSentryClient().create_from_text(
        f"queued{NUL}", logger=f"q{NUL}", server_name=f"s{NUL}"
    )

    report = drain()

    assert (report.digested, report.set_aside) == (1, 0)
    message = assert_recorded_without_nul(message_id)
    assert message.message == f"queued{MARK}"


def test_queue_rows_with_nul_in_their_text_columns_are_queued():
    queue.enqueue(
        "default",
        [
            queue.Entry(
                "a" * 32,
                queue.KIND_EVENT,
                b"{}",
                site=f"s{NUL}",
                client_ip=f"1{NUL}",
                sent_at=f"2026{NUL}",
            )
        ],
    )

    row = queue.QueuedEvent.objects.get()
    assert NUL not in row.site + row.client_ip + row.sent_at


def test_making_text_storable_takes_linear_time():
    def run(text):
        event = dict.fromkeys(TEXT_FIELDS, text)
        make_storable(event)
        event_values({**event, "level": 40, "data": {"tags": {text: text}}})

    assert_linear(run, lambda n: "\x00a" * n, 10_000)


def test_an_event_with_nul_reads_back_on_its_group_page(admin_client):
    message_id = client.create_from_text(f"shown{NUL}here", logger=f"l{NUL}")
    group = Message.objects.get(message_id=message_id).group

    response = admin_client.get(group.get_absolute_url())

    assert response.status_code == 200
    assert f"shown{MARK}here" in response.content.decode()


def test_columns_that_grow_when_their_secrets_are_masked_still_fit():
    # "token=a" becomes "token=********": scrubbing makes a text longer.
    full = "token=a&" * 200
    message_id = client.create_from_text(
        "masked",
        url="https://shop.example/?" + full,
        logger=full,
        view=full,
        server_name=full,
        site=full,
    )

    message = Message.objects.get(message_id=message_id)
    for name in ("url", "logger", "view", "server_name", "site"):
        limit = Message._meta.get_field(name).max_length
        assert "********" in getattr(message, name)
        assert len(getattr(message, name)) <= limit, name


def test_tags_that_grow_when_their_secrets_are_masked_still_fit():
    message_id = client.create_from_text(
        "masked tags", tags={"note": "token=a&" * 25, "token=a&" * 4: "x"}
    )

    assert Message.objects.filter(message_id=message_id).exists()
    for row in MessageFilterValue.objects.all():
        assert len(row.value) <= MessageFilterValue._meta.get_field("value").max_length
        assert len(row.key) <= MessageFilterValue._meta.get_field("key").max_length
