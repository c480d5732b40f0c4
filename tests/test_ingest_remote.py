"""The classic store/ endpoint and the remote client that sends to it."""

import os
import pickle
import socket
import threading
import time
import zlib

import pytest
from django.test import override_settings

from sentry.client.models import client, get_client
from sentry.client.remote import RemoteSentryClient
from sentry.client.transport import Transport
from sentry.models import Message
from sentry.utils import wire
from tests.factories import exc_info_of
from tests.ingest_factories import signed_remote_request

KEY = "shared-secret"


def prepared_event(message="from afar", **kwargs):
    """An event as a remote client prepares it."""
    from sentry import pipeline

    with override_settings(SENTRY_CLIENT="sentry.client.base.SentryClient"):
        return pipeline.prepare(
            client.build_event(message=message, **kwargs), shaped=True
        )


def exception_event():
    exc_type, exc_value, tb = exc_info_of(KeyError("basket"))
    from sentry import pipeline

    return pipeline.prepare(
        client.build_event(exception=exc_value, tags={"shop": "north"}), shaped=True
    )


def error_of(response):
    return response.json()["detail"]


# --- the endpoint -------------------------------------------------------------


@pytest.mark.django_db
class TestTheStoreEndpoint:
    @pytest.fixture(autouse=True)
    def _shared_key(self, settings):
        settings.SENTRY_KEY = KEY

    def test_a_signed_event_is_stored_as_it_was_prepared(self, client):
        event = exception_event()

        response = signed_remote_request(client, event)

        assert response.status_code == 200
        assert response.json() == {"id": event["message_id"]}
        message = Message.objects.get()
        assert message.message_id == event["message_id"]
        assert message.checksum == event["checksum"]
        assert message.class_name == "KeyError"
        assert message.traceback == event["traceback"]
        assert message.view == event["view"]
        stored = message.data["exception"]["values"][-1]["stacktrace"]["frames"]
        sent = event["data"]["exception"]["values"][-1]["stacktrace"]["frames"]
        assert stored == sent
        assert message.data["tags"] == {"shop": "north"}

    def test_a_replayed_request_changes_nothing(self, client):
        event = prepared_event()

        first = signed_remote_request(client, event)
        second = signed_remote_request(client, event)

        assert (first.status_code, second.status_code) == (200, 200)
        assert Message.objects.get().group.times_seen == 1

    def test_a_bad_signature_is_403(self, client):
        response = signed_remote_request(client, prepared_event(), key="wrong")

        assert response.status_code == 403
        assert error_of(response) == "bad signature"
        assert response["X-Sentry-Error"] == "bad signature"

    def test_a_tampered_body_is_403(self, client):
        event = prepared_event()
        body = wire.encode_event(event)
        timestamp = int(time.time())
        signature = wire.sign(KEY, timestamp, body)
        tampered = wire.encode_event(dict(event, message="changed"))

        response = client.post(
            "/sentry/store/",
            tampered,
            content_type="application/json",
            HTTP_CONTENT_ENCODING="deflate",
            HTTP_X_SENTRY_TIMESTAMP=str(timestamp),
            HTTP_X_SENTRY_SIGNATURE=signature,
        )

        assert response.status_code == 403

    # Past the 300 s window by more than the second the timestamp is rounded
    # down by and the time the request takes (301 let a slow run through).
    @pytest.mark.parametrize("offset", [-310, 310, -(10**9)])
    def test_stale_or_future_timestamps_are_403(self, client, offset):
        response = signed_remote_request(
            client, prepared_event(), timestamp=int(time.time()) + offset
        )

        assert response.status_code == 403
        assert "timestamp" in error_of(response)
        assert Message.objects.count() == 0

    def test_the_window_is_a_setting(self, client, settings):
        settings.SENTRY_REMOTE_MAX_AGE = 1000
        response = signed_remote_request(
            client, prepared_event(), timestamp=int(time.time()) - 900
        )
        assert response.status_code == 200

    def test_missing_signature_headers_are_401(self, client):
        response = client.post(
            "/sentry/store/",
            wire.encode_event(prepared_event()),
            content_type="application/json",
            HTTP_CONTENT_ENCODING="deflate",
        )
        assert response.status_code == 401

    def test_an_unparsable_timestamp_is_400(self, client):
        response = signed_remote_request(
            client, prepared_event(), HTTP_X_SENTRY_TIMESTAMP="yesterday"
        )
        assert response.status_code == 400

    @pytest.mark.parametrize(
        "timestamp", ["9" * 400, "1" * 13, "١٧٠٠٠٠٠٠٠٠", "1_700_000_000", "-5", "1e9"]
    )
    def test_a_timestamp_of_anything_but_whole_seconds_is_400(self, client, timestamp):
        # 400 digits overflowed the comparison with the clock: a 500.
        response = signed_remote_request(
            client, prepared_event(), HTTP_X_SENTRY_TIMESTAMP=timestamp
        )
        assert response.status_code == 400

    @pytest.mark.parametrize(
        "headers",
        [
            {"content_type": "application/octet-stream"},
            {"content_type": "application/x-www-form-urlencoded"},
            {"HTTP_CONTENT_ENCODING": "gzip"},
            {"HTTP_CONTENT_ENCODING": "identity"},
        ],
    )
    def test_another_format_is_415(self, client, headers):
        response = signed_remote_request(client, prepared_event(), **headers)
        assert response.status_code == 415

    @pytest.mark.parametrize(
        "body",
        [
            b"not zlib",
            zlib.compress(b"not json"),
            zlib.compress(b"[1, 2]"),
        ],
    )
    def test_a_signed_body_that_is_no_zlib_json_object_is_400(self, client, body):
        response = signed_remote_request(client, {}, body=body)
        assert response.status_code == 400

    def test_a_pickle_is_never_unpickled(self, client):
        class Boom:
            def __reduce__(self):
                return (exec, ("import sentry; sentry.PWNED = True",))

        body = zlib.compress(pickle.dumps(Boom()))

        response = signed_remote_request(client, {}, body=body)

        import sentry

        assert response.status_code == 400
        assert not hasattr(sentry, "PWNED")

    def test_a_body_over_the_limit_is_413(self, client, settings):
        settings.SENTRY_INGEST_MAX_EVENT_SIZE = 2000
        body = zlib.compress(os.urandom(3000).hex().encode())
        assert len(body) > 2000

        response = signed_remote_request(client, {}, body=body)

        assert response.status_code == 413

    def test_an_inflated_event_over_the_limit_is_413(self, client):
        body = zlib.compress(b'{"message": "' + b"x" * 2_000_000 + b'"}')

        response = signed_remote_request(client, {}, body=body)

        assert response.status_code == 413


@pytest.mark.django_db
def test_without_a_key_the_server_takes_no_remote_events(client):
    response = signed_remote_request(client, prepared_event())

    assert response.status_code == 403
    assert "SENTRY_KEY" in error_of(response)


# --- the remote client in this process ----------------------------------------


@pytest.fixture
def hanging_server():
    """A TCP server on the loopback that accepts and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    accepted = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            accepted.append(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/sentry/store/"
    stop.set()
    thread.join(5)
    for connection in accepted:
        connection.close()
    listener.close()


def test_setting_a_remote_url_switches_to_the_remote_client():
    with override_settings(SENTRY_REMOTE_URL="http://x/sentry/store/", SENTRY_KEY="k"):
        assert isinstance(get_client(), RemoteSentryClient)
    assert not isinstance(get_client(), RemoteSentryClient)


def test_an_explicit_client_setting_wins_over_the_remote_url():
    with override_settings(
        SENTRY_REMOTE_URL="http://x/sentry/store/",
        SENTRY_CLIENT="sentry.client.base.LoggingSentryClient",
    ):
        assert type(get_client()).__name__ == "LoggingSentryClient"


@pytest.mark.django_db(transaction=True)
@override_settings(SENTRY_KEY=KEY)
def test_the_remote_client_sends_in_the_background(live_server):
    url = f"{live_server.url}/sentry/store/"
    with override_settings(SENTRY_REMOTE_URL=[url, url]):
        remote = get_client()
        try:
            raise ValueError("sent from here")
        except ValueError:
            message_id = remote.create_from_exception()
        assert remote.flush(10)

    message = Message.objects.get(message_id=message_id)
    assert message.class_name == "ValueError"
    # Sent to both URLs (here the same server): stored once.
    assert message.group.times_seen == 1


@override_settings(SENTRY_KEY=KEY, SENTRY_REMOTE_TIMEOUT=0.5)
def test_a_slow_server_never_holds_the_caller(hanging_server, sentry_errors):
    with override_settings(SENTRY_REMOTE_URL=hanging_server):
        remote = get_client()
        started = time.monotonic()
        message_id = remote.create_from_text("nobody answers")
        elapsed = time.monotonic() - started
        remote.flush(5)

    assert len(message_id) == 32
    assert elapsed < 0.4
    assert len(sentry_errors) == 1
    text = sentry_errors[0].getMessage()
    assert "could not be reached" in text
    assert message_id in text
    assert "nobody answers" in text


@override_settings(SENTRY_KEY=KEY, SENTRY_REMOTE_TIMEOUT=2)
def test_a_full_queue_logs_the_event_and_returns_none(hanging_server, sentry_errors):
    transport = Transport(maxsize=1)
    event = prepared_event("queued")
    with override_settings(SENTRY_REMOTE_URL=hanging_server):
        # The first is taken by the thread (hanging), the second waits.
        assert transport.enqueue(b"body", event)
        deadline = time.monotonic() + 10
        while not transport.queue.empty() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert transport.enqueue(b"body", event)
        assert not transport.enqueue(b"body", dict(event, message="dropped"))
        assert "queue is full" in sentry_errors[0].getMessage()
        assert "dropped" in sentry_errors[0].getMessage()
        transport.close(timeout=0.1)

    assert any(
        "exited before it could be sent" in r.getMessage() for r in sentry_errors
    )


@override_settings(SENTRY_REMOTE_URL="http://x/", SENTRY_KEY=KEY)
def test_an_event_that_cannot_be_encoded_is_logged_not_raised(sentry_errors):
    remote = RemoteSentryClient()

    result = remote.create_from_text("text", datetime="not a datetime at all")

    assert isinstance(result, str)
    remote.flush(0.1)
