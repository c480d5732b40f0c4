"""
Hostile input at the ingest endpoints, property-based.

Thousands of malformed envelopes, broken or oversized compression, invalid
UTF-8, wrong lengths, bad credentials: the answer is never a 5xx, and a
refused request never leaves anything behind.
"""

import gzip
import json
import zlib

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sentry.models import GroupedMessage, Message
from tests.ingest_factories import SDK_AUTH, event_envelope, exception_event, make_key

pytestmark = pytest.mark.django_db


def fuzz(examples):
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


@pytest.fixture
def key():
    return make_key(public_key="e" * 32)


def post(body, key, encoding=None, auth=None, path="/sentry/api/42/envelope/"):
    headers = {
        "HTTP_X_SENTRY_AUTH": auth
        if auth is not None
        else SDK_AUTH.format(key=key.public_key)
    }
    if encoding:
        headers["HTTP_CONTENT_ENCODING"] = encoding
    return Client().post(
        path, body, content_type="application/x-sentry-envelope", **headers
    )


def stored():
    return Message.objects.count(), GroupedMessage.objects.count()


VALID = event_envelope(exception_event(event_id="d" * 32))


@fuzz(1000)
@given(
    cut=st.integers(min_value=0, max_value=len(VALID)),
    flips=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(VALID) - 1), st.integers(0, 255)
        ),
        max_size=4,
    ),
    insert=st.binary(max_size=8),
)
def test_a_damaged_envelope_never_gets_a_5xx_nor_leaves_rows(key, cut, flips, insert):
    body = bytearray(VALID)
    for position, byte in flips:
        body[position] = byte
    body = bytes(body[:cut]) + insert + bytes(body[cut:])
    before = stored()

    response = post(body, key)

    assert response.status_code < 500, response.content
    if response.status_code != 200:
        assert stored() == before


@fuzz(300)
@given(
    declared=st.one_of(
        st.integers(min_value=-10, max_value=10**12),
        st.text(max_size=5),
        st.none(),
        st.floats(allow_nan=True),
    )
)
def test_any_declared_item_length_is_handled(key, declared):
    payload = json.dumps(exception_event()).encode()
    header = json.dumps({"type": "event", "length": declared}).encode()
    before = stored()

    response = post(b"{}\n" + header + b"\n" + payload, key)

    assert response.status_code < 500
    if response.status_code != 200:
        assert stored() == before


@fuzz(300)
@given(auth=st.text(max_size=120), query=st.text(max_size=60))
def test_any_credentials_are_refused_cleanly(key, auth, query):
    response = Client().post(
        "/sentry/api/42/envelope/?" + query,
        VALID,
        content_type="application/x-sentry-envelope",
        HTTP_X_SENTRY_AUTH=auth,
        HTTP_AUTHORIZATION=auth,
    )
    assert response.status_code in (200, 400, 401, 403)
    assert response.status_code != 200 or key.public_key in auth + query


@fuzz(300)
@given(
    payload=st.binary(min_size=1, max_size=300),
    encoding=st.sampled_from(["gzip", "deflate", "br"]),
    truncate=st.integers(min_value=1, max_value=64),
)
def test_broken_compression_is_a_4xx(key, payload, encoding, truncate):
    if encoding == "gzip":
        body = gzip.compress(payload)[:-truncate]
    elif encoding == "deflate":
        body = zlib.compress(payload)[:-truncate]
    else:
        body = payload  # not brotli at all
    before = stored()

    response = post(body, key, encoding=encoding)

    assert 400 <= response.status_code < 500
    assert stored() == before


@fuzz(200)
@given(garbage=st.binary(min_size=1, max_size=40).filter(lambda b: not _is_utf8(b)))
# A UTF-8-encoded surrogate, which json.loads() of bytes lets through.
@example(garbage=b"\xed\xa0\x80")
def test_invalid_utf8_in_an_event_is_a_400(key, garbage):
    payload = b'{"message": "' + garbage + b'"}'
    body = (
        b"{}\n"
        + json.dumps({"type": "event", "length": len(payload)}).encode()
        + b"\n"
        + payload
    )

    response = post(body, key)

    assert response.status_code == 400
    assert stored() == (0, 0)


def _is_utf8(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_decompression_bombs_are_413(key, encoding):
    import brotli

    bomb = b"{}\n" + b" " * (30 * 1024 * 1024)
    body = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "br": brotli.compress,
    }[encoding](bomb)
    assert len(body) < 100 * 1024

    response = post(body, key, encoding=encoding)

    assert response.status_code == 413


@override_settings(SENTRY_INGEST_MAX_EVENT_SIZE=10_000)
def test_an_absurdly_large_event_is_413(key):
    event = exception_event(extra={"blob": "x" * 50_000})

    response = post(event_envelope(event), key)

    assert response.status_code == 413
    assert stored() == (0, 0)


def test_a_huge_declared_length_with_no_data_is_refused_without_reading(key):
    body = b'{}\n{"type":"event","length":1000000000000}\n{}'

    response = post(body, key)

    assert response.status_code in (400, 413)
