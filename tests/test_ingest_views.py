"""The Sentry SDK endpoints over raw HTTP: every answer, auth form and encoding."""

import base64
import json
import time
import zlib

import pytest
from django.test import override_settings

from sentry.models import GroupedMessage, Message
from tests.ingest_factories import (
    compress,
    envelope,
    event_envelope,
    exception_event,
    make_key,
    make_project,
    message_event,
    post_envelope,
    post_store,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    return make_key()


def error_of(response):
    body = response.json()
    assert set(body) == {"detail", "causes"}
    assert response["X-Sentry-Error"]
    return body["detail"]


# --- success -----------------------------------------------------------------


def test_an_envelope_with_an_event_is_stored_and_answered_with_its_id(client, key):
    event = exception_event()

    response = post_envelope(client, event_envelope(event), key)

    assert response.status_code == 200
    assert response.json() == {"id": event["event_id"]}
    message = Message.objects.get()
    assert message.message_id == event["event_id"]
    assert message.class_name == "ValueError"
    assert message.site == "shop"


def test_the_envelope_header_event_id_wins_over_the_payload(client, key):
    event = exception_event()
    header_id = "a" * 32

    response = post_envelope(client, event_envelope(event, event_id=header_id), key)

    assert response.json() == {"id": header_id}
    assert Message.objects.get().message_id == header_id


def test_an_envelope_without_events_is_answered_with_an_empty_object(client, key):
    body = envelope(
        ("sessions", {"attrs": {"release": "1"}, "aggregates": []}),
        ("client_report", {"discarded_events": []}),
    )

    response = post_envelope(client, body, key)

    assert response.status_code == 200
    assert response.json() == {}
    assert Message.objects.count() == 0


def test_an_empty_envelope_is_accepted(client, key):
    assert post_envelope(client, b"{}\n", key).json() == {}
    assert post_envelope(client, b"{}", key).json() == {}


def test_unknown_item_types_are_skipped_not_refused(client, key):
    event = message_event()
    body = envelope(
        ("something_new", b"\x00\x01 not json at all"),
        ("attachment", b"file contents"),
        ("transaction", {"type": "transaction"}),
        ("event", event),
        event_id=event["event_id"],
    )

    response = post_envelope(client, body, key)

    assert response.status_code == 200
    assert response.json() == {"id": event["event_id"]}


def test_items_without_length_run_to_the_end_of_the_line(client, key):
    event = message_event()
    body = (
        json.dumps({"event_id": event["event_id"]}).encode()
        + b"\n"
        + b'{"type":"event"}\n'
        + json.dumps(event).encode()
        + b"\n"
        + b'{"type":"client_report"}\n{"discarded_events":[]}'
    )

    assert post_envelope(client, body, key).json() == {"id": event["event_id"]}


def test_sentry_rubys_envelopes_with_empty_lines_between_items_are_read(client, key):
    # sentry-ruby 5.3 ends each item with a newline and joins items with
    # another, and sends an empty Content-Encoding when it does not gzip.
    event = message_event()
    body = (
        json.dumps({"event_id": event["event_id"]}).encode()
        + b"\n"
        + b'{"type":"event","content_type":"application/json"}\n'
        + json.dumps(event).encode()
        + b"\n\n"
        + b'{"type":"client_report"}\n{"discarded_events":[]}\n'
    )

    response = post_envelope(client, body, key, HTTP_CONTENT_ENCODING="")

    assert response.json() == {"id": event["event_id"]}
    assert Message.objects.get().message_id == event["event_id"]


def test_the_same_event_sent_twice_is_stored_once(client, key):
    event = exception_event()
    body = event_envelope(event)

    post_envelope(client, body, key)
    response = post_envelope(client, body, key)

    assert response.status_code == 200
    assert Message.objects.count() == 1
    assert GroupedMessage.objects.get().times_seen == 1


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "identity"])
def test_each_content_encoding_is_understood(client, key, encoding):
    event = message_event()

    response = post_envelope(client, event_envelope(event), key, encoding=encoding)

    assert response.status_code == 200
    assert Message.objects.get().message_id == event["event_id"]


def test_a_raw_deflate_stream_is_understood_too(client, key):
    event = message_event()
    compressor = zlib.compressobj(wbits=-15)
    body = compressor.compress(event_envelope(event)) + compressor.flush()

    response = post_envelope(client, body, key, HTTP_CONTENT_ENCODING="deflate")

    assert response.status_code == 200


def test_feedback_and_user_reports_are_stored_as_feedback(client, key):
    feedback = {
        "contexts": {
            "feedback": {
                "message": "The checkout button does nothing",
                "contact_email": "jane@example.com",
                "name": "Jane",
                "url": "https://shop.example.com/checkout/",
            }
        },
        "event_id": "b" * 32,
    }
    report = {
        "event_id": "c" * 32,
        "name": "Joe",
        "email": "joe@example.com",
        "comments": "It crashed",
    }

    post_envelope(client, envelope(("feedback", feedback), event_id="b" * 32), key)
    post_envelope(client, envelope(("user_report", report)), key)

    stored = {m.message: m for m in Message.objects.all()}
    assert set(stored) == {"The checkout button does nothing", "It crashed"}
    assert {m.logger for m in stored.values()} == {"feedback"}
    checkout = stored["The checkout button does nothing"]
    assert checkout.url == "https://shop.example.com/checkout/"
    assert checkout.data["feedback"]["contact_email"] == "jane@example.com"
    assert stored["It crashed"].data["feedback"]["associated_event_id"] == "c" * 32


# --- the store endpoint --------------------------------------------------------


def test_the_store_endpoint_takes_plain_json(client, key):
    event = exception_event()

    response = post_store(client, json.dumps(event), key)

    assert response.status_code == 200
    assert response.json() == {"id": event["event_id"]}


def test_the_store_endpoint_takes_raven_deflate_bodies(client, key):
    event = exception_event(level=40)
    body = zlib.compress(json.dumps(event).encode())

    response = post_store(
        client,
        body,
        key,
        content_type="application/octet-stream",
        HTTP_CONTENT_ENCODING="deflate",
    )

    assert response.status_code == 200
    assert Message.objects.get().level == 40


def test_the_store_endpoint_takes_base64_zlib_bodies(client, key):
    event = message_event()
    body = base64.b64encode(zlib.compress(json.dumps(event).encode()))

    response = post_store(client, body, key, content_type="application/octet-stream")

    assert response.status_code == 200
    assert Message.objects.get().message == "Payment gateway timed out"


def test_the_store_endpoint_takes_base64_json_and_gzip(client, key):
    first, second = message_event(), message_event(message="other")

    post_store(client, base64.b64encode(json.dumps(first).encode()), key)
    post_store(
        client,
        compress(json.dumps(second).encode(), "gzip"),
        key,
        HTTP_CONTENT_ENCODING="gzip",
    )

    assert Message.objects.count() == 2


def test_an_envelope_posted_to_the_store_endpoint_is_an_envelope(client, key):
    event = message_event()

    response = post_store(
        client,
        event_envelope(event),
        key,
        content_type="application/x-sentry-envelope",
    )

    assert response.json() == {"id": event["event_id"]}


def test_both_endpoints_answer_without_the_trailing_slash(client, key):
    event, other = message_event(), message_event(message="other")
    auth = {"HTTP_X_SENTRY_AUTH": f"Sentry sentry_key={key.public_key}"}

    first = client.post(
        "/sentry/api/42/envelope",
        event_envelope(event),
        content_type="application/x-sentry-envelope",
        **auth,
    )
    second = client.post(
        "/sentry/api/42/store", json.dumps(other), content_type="text/plain", **auth
    )

    assert (first.status_code, second.status_code) == (200, 200)


# --- authentication ------------------------------------------------------------


def test_the_authorization_header_is_a_credential(client, key):
    response = post_store(
        client,
        json.dumps(message_event()),
        HTTP_AUTHORIZATION=f"Sentry sentry_key={key.public_key},sentry_version=7",
    )
    assert response.status_code == 200


def test_basic_authorization_is_a_credential(client, key):
    token = base64.b64encode(f"{key.public_key}:".encode()).decode()

    response = post_store(
        client, json.dumps(message_event()), HTTP_AUTHORIZATION=f"Basic {token}"
    )

    assert response.status_code == 200


def test_the_query_string_is_a_credential(client, key):
    response = client.post(
        f"/sentry/api/42/envelope/?sentry_version=7&sentry_key={key.public_key}"
        "&sentry_client=sentry.javascript.browser/8.0.0",
        event_envelope(message_event()),
        content_type="text/plain",
    )
    assert response.status_code == 200


def test_the_envelope_dsn_is_a_credential(client, key):
    body = event_envelope(
        message_event(), dsn=f"https://{key.public_key}@errors.example.com/sentry/42"
    )
    assert post_envelope(client, body).status_code == 200


def test_lenient_auth_headers_are_understood(client, key):
    header = f"sentry  key={key.public_key} ,  version=7,foo=bar,junk"

    response = post_store(
        client, json.dumps(message_event()), HTTP_X_SENTRY_AUTH=header
    )

    assert response.status_code == 200


def test_no_credentials_is_401(client, key):
    response = post_envelope(client, event_envelope(message_event()))

    assert response.status_code == 401
    assert "authorization" in error_of(response)


def test_an_unparsable_auth_header_is_401(client, key):
    response = post_store(client, "{}", HTTP_X_SENTRY_AUTH="Bearer xyz")
    assert response.status_code == 401


def test_conflicting_credentials_are_401(client, key):
    other = make_key(label="other")
    body = event_envelope(
        message_event(), dsn=f"https://{other.public_key}@errors.example.com/42"
    )

    response = post_envelope(client, body, key)

    assert response.status_code == 401
    assert "multiple" in error_of(response)


@pytest.mark.parametrize(
    "case", ["unknown", "inactive", "other project", "wrong secret"]
)
def test_every_bad_key_gets_the_same_403(client, case):
    key = make_key(secret_key="s" * 32, is_active=case != "inactive")
    public_key = "0" * 32 if case == "unknown" else key.public_key
    project_id = 7 if case == "other project" else 42
    secret = "x" * 32 if case == "wrong secret" else key.secret_key
    header = f"Sentry sentry_key={public_key}, sentry_secret={secret}"

    response = post_store(
        client,
        json.dumps(message_event()),
        project_id=project_id,
        HTTP_X_SENTRY_AUTH=header,
    )

    assert response.status_code == 403
    assert error_of(response) == "invalid, inactive or foreign key for this project"
    assert Message.objects.count() == 0


def test_the_secret_is_never_required(client):
    key = make_key(secret_key="s" * 32)
    assert post_store(client, json.dumps(message_event()), key).status_code == 200


@pytest.mark.parametrize("version", ["inf", "1e400", "nan", "²", "7e0", "v7", "-1"])
def test_a_protocol_version_that_is_no_plain_number_is_400(client, version):
    # Even with an unknown key: int(float("inf")) was a 500.
    header = f"Sentry sentry_key={'0' * 32}, sentry_version={version}"

    response = post_store(
        client, json.dumps(message_event()), HTTP_X_SENTRY_AUTH=header
    )
    query = client.post(
        f"/sentry/api/42/envelope/?sentry_key={'0' * 32}&sentry_version={version}",
        event_envelope(message_event()),
        content_type="application/x-sentry-envelope",
    )

    assert response.status_code == 400
    assert "version" in error_of(response)
    assert query.status_code == 400


@pytest.mark.parametrize("version", ["7", "7.0", " 6 ", "2.0"])
def test_plain_protocol_versions_are_accepted(client, key, version):
    header = f"Sentry sentry_key={key.public_key}, sentry_version={version}"

    response = post_store(
        client, json.dumps(message_event()), HTTP_X_SENTRY_AUTH=header
    )

    assert response.status_code == 200


def test_a_newer_protocol_version_is_400(client, key):
    header = f"Sentry sentry_key={key.public_key}, sentry_version=99"

    response = post_store(
        client, json.dumps(message_event()), HTTP_X_SENTRY_AUTH=header
    )

    assert response.status_code == 400
    assert "version" in error_of(response)


# --- malformed input -----------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json\n",
        b"[]\n",
        b'{}\n{"length": 2}\n{}',
        b'{}\n{"type": "event", "length": 100}\n{}',
        b'{}\n{"type": "event", "length": 2}\n{}xx',
        b'{}\n{"type": "event", "length": -1}\n{}',
        b'{}\n{"type": "event"}\n[1, 2]',
        b'{}\n{"type": "event"}\n{"broken": ',
        b"{}\n" + b"[" * 100_000 + b"\n",
        b'{}\n{"type":"event"}\n' + b"[" * 100_000,
    ],
)
def test_malformed_envelopes_are_400(client, key, body):
    response = post_envelope(client, body, key)

    assert response.status_code == 400
    assert error_of(response).startswith(("malformed", "the event", "the "))


@pytest.mark.parametrize(
    "body", [b"", b"nonsense", b"[1]", base64.b64encode(b"nonsense"), b"\x78\x9c\x00"]
)
def test_malformed_store_bodies_are_400(client, key, body):
    response = post_store(client, body, key, content_type="application/octet-stream")
    assert response.status_code == 400


def test_a_corrupt_gzip_body_is_400(client, key):
    response = post_envelope(
        client, b"\x1f\x8b\x08garbage", key, HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 400
    assert "gzip" in error_of(response)


def test_bad_types_in_every_field_are_coerced_or_dropped_not_500(client, key):
    event = {
        "event_id": 12,
        "timestamp": {"when": "now"},
        "level": ["error"],
        "logger": {"name": 1},
        "server_name": 5,
        "message": {"message": "order %s failed", "params": [7]},
        "exception": {"values": ["text", {"type": 3, "value": None}, None]},
        "stacktrace": "not a stack",
        "request": {"url": 1, "headers": [["A", "b"], "junk"], "cookies": 3},
        "user": "jane",
        "tags": [["a", "b"], ["c"], "d", [None, 1], ["n", None]],
        "contexts": {"os": "linux", "app": {"name": "shop"}},
        "breadcrumbs": "none",
        "fingerprint": {"a": 1},
        "extra": "text",
        "threads": 4,
        "sdk": [],
        "environment": {"env": 1},
        "release": 1.5,
        "culprit": ["x"],
        "transaction": {},
    }

    response = post_store(client, json.dumps(event), key)

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.class_name == "3"
    assert message.message == "3"
    assert message.data["tags"] == {"a": "b", "release": "1.5"}
    assert message.data["contexts"] == {"app": {"name": "shop"}}
    assert message.server_name == "5"


def test_the_unsupported_encoding_is_415(client, key):
    response = post_envelope(
        client, event_envelope(message_event()), key, HTTP_CONTENT_ENCODING="zstd"
    )

    assert response.status_code == 415
    assert "zstd" in error_of(response)


def test_without_a_brotli_module_br_is_415(client, key, monkeypatch):
    from sentry.ingest import decoding

    monkeypatch.setattr(decoding, "brotli", None)

    response = post_envelope(
        client, event_envelope(message_event()), key, encoding="br"
    )

    assert response.status_code == 415


# --- limits ---------------------------------------------------------------------


@override_settings(SENTRY_INGEST_MAX_ENVELOPE_SIZE=10_000)
def test_a_body_over_the_limit_is_413(client, key):
    body = envelope(("attachment", b"x" * 20_000))

    response = post_envelope(client, body, key)

    assert response.status_code == 413


@override_settings(SENTRY_INGEST_MAX_ENVELOPE_SIZE=100_000)
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_a_decompression_bomb_is_413(client, key, encoding):
    body = envelope(("attachment", b"\0" * 5_000_000))
    compressed = compress(body, encoding)
    assert len(compressed) < 100_000

    response = post_envelope(client, compressed, key, HTTP_CONTENT_ENCODING=encoding)

    assert response.status_code == 413


@override_settings(SENTRY_INGEST_MAX_EVENT_SIZE=1000)
def test_an_event_item_over_the_limit_is_413(client, key):
    event = message_event(extra={"blob": "x" * 2000})

    assert post_envelope(client, event_envelope(event), key).status_code == 413
    assert post_store(client, json.dumps(event), key).status_code == 413


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_bodies_over_djangos_upload_limit_are_read_all_the_same(client, key):
    event = message_event(extra={"blob": "x" * 5000})

    assert post_envelope(client, event_envelope(event), key).status_code == 200


# --- rate limits ------------------------------------------------------------------


@pytest.fixture
def fresh_window():
    """Wait, if need be, until the rate limit's minute has 10 s left at least."""
    from sentry.ingest.ratelimit import WINDOW

    left = WINDOW - time.time() % WINDOW
    if left < 10:
        time.sleep(left + 0.1)


def test_over_a_keys_rate_limit_is_429_with_integer_limits(client, fresh_window):
    key = make_key(rate_limit=2)

    statuses = [
        post_envelope(client, event_envelope(message_event()), key).status_code
        for _ in range(3)
    ]
    limited = post_envelope(client, event_envelope(message_event()), key)

    assert statuses == [200, 200, 429]
    retry_after = int(limited["Retry-After"])
    assert 1 <= retry_after <= 61
    assert limited["X-Sentry-Rate-Limits"] == (
        f"{retry_after}:error;default;feedback:key:key_quota"
    )
    assert Message.objects.count() == 2


def test_envelopes_without_events_do_not_count_against_the_limit(client, fresh_window):
    key = make_key(rate_limit=1)
    sessions = envelope(("sessions", {"aggregates": []}))

    for _ in range(3):
        assert post_envelope(client, sessions, key).status_code == 200
    assert (
        post_envelope(client, event_envelope(message_event()), key).status_code == 200
    )


def many_events_envelope(count):
    return envelope(*[("event", message_event(message=f"m{i}")) for i in range(count)])


def test_each_event_of_an_envelope_counts_against_the_limit(client, fresh_window):
    key = make_key(rate_limit=5)

    response = post_envelope(client, many_events_envelope(300), key)

    assert response.status_code == 200
    assert Message.objects.count() == 5
    retry_after, categories, scope, reason = response["X-Sentry-Rate-Limits"].split(":")
    assert 1 <= int(retry_after) <= 61
    assert (categories, scope, reason) == ("error;default;feedback", "key", "key_quota")


def test_an_envelope_whose_events_are_all_over_the_limit_is_429(client, fresh_window):
    key = make_key(rate_limit=2)
    assert post_envelope(client, many_events_envelope(2), key).status_code == 200

    response = post_envelope(client, many_events_envelope(3), key)

    assert response.status_code == 429
    assert response["X-Sentry-Rate-Limits"].endswith(
        ":error;default;feedback:key:key_quota"
    )
    assert Message.objects.count() == 2


def test_feedback_and_user_reports_count_as_events(client, fresh_window):
    key = make_key(rate_limit=2)
    body = envelope(
        ("event", message_event()),
        ("feedback", message_event(contexts={"feedback": {"message": "slow"}})),
        ("user_report", {"event_id": "a" * 32, "comments": "broken"}),
    )

    response = post_envelope(client, body, key)

    assert response.status_code == 200
    assert "X-Sentry-Rate-Limits" in response
    assert Message.objects.count() == 2


def test_an_envelope_within_the_limit_has_no_rate_limit_header(client):
    key = make_key(rate_limit=3)

    response = post_envelope(client, many_events_envelope(3), key)

    assert response.status_code == 200
    assert "X-Sentry-Rate-Limits" not in response
    assert Message.objects.count() == 3


def test_a_malformed_envelope_uses_no_quota(client, fresh_window):
    key = make_key(rate_limit=1)
    broken = envelope(("event", message_event()), ("event", b"[1]"))

    assert post_envelope(client, broken, key).status_code == 400
    assert (
        post_envelope(client, event_envelope(message_event()), key).status_code == 200
    )


def test_store_bodies_count_one_event_each(client, fresh_window):
    key = make_key(rate_limit=2)

    statuses = [
        post_store(client, json.dumps(message_event()), key).status_code
        for _ in range(3)
    ]

    assert statuses == [200, 200, 429]


def limited_project_keys(rate_limit, count=2):
    """Return ``count`` keys without limits of their own in a project with one."""
    project = make_project(42, rate_limit=rate_limit)
    return [make_key(label=f"app {n}", project_id=project.pk) for n in range(count)]


def test_a_projects_rate_limit_counts_the_events_of_all_its_keys(client, fresh_window):
    first, second = limited_project_keys(rate_limit=3)
    assert post_envelope(client, many_events_envelope(2), first).status_code == 200

    statuses = [
        post_envelope(client, event_envelope(message_event()), second).status_code
        for _ in range(2)
    ]
    limited = post_store(client, json.dumps(message_event()), first)

    assert statuses == [200, 429]
    assert limited.status_code == 429
    retry_after = int(limited["Retry-After"])
    assert 1 <= retry_after <= 61
    assert limited["X-Sentry-Rate-Limits"] == (
        f"{retry_after}:error;default;feedback:project:project_quota"
    )
    assert error_of(limited) == "rate limited: too many events for this project"
    assert Message.objects.filter(group__project_id=42).count() == 3


def test_an_envelope_over_the_projects_limit_keeps_its_first_events(
    client, fresh_window
):
    (key,) = limited_project_keys(rate_limit=4, count=1)

    response = post_envelope(client, many_events_envelope(10), key)

    assert response.status_code == 200
    retry_after, categories, scope, reason = response["X-Sentry-Rate-Limits"].split(":")
    assert 1 <= int(retry_after) <= 61
    assert (categories, scope, reason) == (
        "error;default;feedback",
        "project",
        "project_quota",
    )
    stored = Message.objects.filter(group__project_id=42)
    assert sorted(stored.values_list("message", flat=True)) == [
        "m0",
        "m1",
        "m2",
        "m3",
    ]


def test_events_a_key_refuses_use_none_of_its_projects_quota(client, fresh_window):
    noisy, quiet = limited_project_keys(rate_limit=3)
    noisy.rate_limit = 1
    noisy.save()

    noisy_response = post_envelope(client, many_events_envelope(5), noisy)
    quiet_statuses = [
        post_envelope(client, event_envelope(message_event()), quiet).status_code
        for _ in range(3)
    ]

    assert noisy_response.status_code == 200
    assert noisy_response["X-Sentry-Rate-Limits"].endswith(":key:key_quota")
    assert quiet_statuses == [200, 200, 429]
    assert Message.objects.filter(group__project_id=42).count() == 3


def test_a_projects_rate_limit_applies_as_soon_as_it_is_saved(client, fresh_window):
    (key,) = limited_project_keys(rate_limit=None, count=1)
    with override_settings(SENTRY_INGEST_KEY_CACHE_TIMEOUT=60):
        assert post_envelope(client, many_events_envelope(2), key).status_code == 200
        key.project.rate_limit = 2
        key.project.save()

        assert post_envelope(client, many_events_envelope(2), key).status_code == 200
        response = post_envelope(client, event_envelope(message_event()), key)

    assert response.status_code == 429
    assert response["X-Sentry-Rate-Limits"].endswith(":project:project_quota")


def test_security_reports_count_against_the_projects_limit(client, fresh_window):
    (key,) = limited_project_keys(rate_limit=1, count=1)
    report = {
        "csp-report": {
            "document-uri": "https://shop.example/",
            "violated-directive": "script-src",
            "blocked-uri": "https://evil.example/x.js",
        }
    }

    statuses = [
        client.post(
            f"/sentry/api/42/security/?sentry_key={key.public_key}",
            json.dumps(report),
            content_type="application/csp-report",
        ).status_code
        for _ in range(2)
    ]

    assert statuses == [201, 429]


# --- HTTP and CORS ------------------------------------------------------------------


def test_only_post_is_allowed(client, key):
    response = client.get("/sentry/api/42/envelope/")

    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_a_cors_preflight_is_answered(client):
    response = client.options(
        "/sentry/api/42/envelope/",
        HTTP_ORIGIN="https://shop.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "X-Sentry-Auth" in response["Access-Control-Allow-Headers"]


def test_answers_carry_cors_headers_for_browsers(client, key):
    response = post_envelope(
        client,
        event_envelope(message_event()),
        key,
        HTTP_ORIGIN="https://shop.example.com",
    )

    assert response["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "X-Sentry-Rate-Limits" in response["Access-Control-Expose-Headers"]


@override_settings(SENTRY_INGEST_CORS_ORIGINS=["https://shop.example.com"])
def test_origins_not_allowed_are_403(client, key):
    response = post_envelope(
        client,
        event_envelope(message_event()),
        key,
        HTTP_ORIGIN="https://evil.example.com",
    )
    preflight = client.options(
        "/sentry/api/42/envelope/", HTTP_ORIGIN="https://evil.example.com"
    )

    assert response.status_code == 403
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


def test_the_endpoints_need_no_csrf_token(key):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)

    response = post_envelope(client, event_envelope(message_event()), key)

    assert response.status_code == 200


def test_a_failure_to_queue_is_503_not_500(client, key, monkeypatch, sentry_errors):
    from sentry import queue

    def broken(using, entries, received=None):
        raise RuntimeError("database is gone")

    monkeypatch.setattr(queue, "enqueue", broken)

    response = post_envelope(client, event_envelope(message_event()), key)

    assert response.status_code == 503
    assert "Unable to queue an ingested event" in sentry_errors[0].getMessage()


def test_a_failure_to_digest_leaves_the_accepted_event_queued(
    client, key, monkeypatch, sentry_errors
):
    from sentry import digest
    from sentry.models import QueuedEvent

    def broken(using, events, rows):
        raise RuntimeError("database is gone")

    monkeypatch.setattr(digest, "_store", broken)
    event = message_event()

    response = post_envelope(client, event_envelope(event), key)

    assert response.status_code == 200
    assert Message.objects.count() == 0
    queued = QueuedEvent.objects.get()
    assert queued.event_id == event["event_id"]
    assert queued.failed
    assert "database is gone" in queued.error
