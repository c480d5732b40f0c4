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
@example(declared=float("inf"))
@example(declared=-float("inf"))
@example(declared=10**400)
@example(declared=-(2**63))
@example(declared=1.5)
@example(declared="1e400")
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


# --- compression layouts ------------------------------------------------------------

EMPTY_MEMBER = gzip.compress(b"")


def gzip_members(data, members):
    """``data`` gzip-compressed as ``members`` members (the first ones empty)."""
    return EMPTY_MEMBER * (members - 1) + gzip.compress(data)


@pytest.mark.parametrize("members", [1, 2, 16])
def test_a_few_gzip_members_make_one_body(key, members):
    response = post(gzip_members(VALID, members), key, encoding="gzip")

    assert response.status_code == 200, response.content
    assert stored() == (1, 1)


def test_zero_bytes_after_a_gzip_member_are_padding(key):
    response = post(gzip.compress(VALID) + b"\0" * 1000, key, encoding="gzip")

    assert response.status_code == 200


def test_a_gzip_body_of_thousands_of_members_is_400(key):
    response = post(gzip_members(VALID, 5000), key, encoding="gzip")

    assert response.status_code == 400
    assert "gzip members" in response.json()["detail"]
    assert stored() == (0, 0)


@pytest.mark.parametrize(
    "encoding", ["gzip, gzip", "deflate, gzip", "gzip,br", "br, identity, deflate"]
)
def test_a_second_layer_of_encoding_is_415(key, encoding):
    # Stacked layers multiplied the cost of a body of empty members: 10 KB
    # of "gzip, gzip" cost seconds of CPU time.
    body = gzip.compress(EMPTY_MEMBER * 100_000)

    response = post(body, key, encoding=encoding)

    assert response.status_code == 415
    assert "one Content-Encoding at most" in response.json()["detail"]
    assert stored() == (0, 0)


def test_identity_is_no_layer(key):
    response = post(gzip.compress(VALID), key, encoding="identity, gzip")

    assert response.status_code == 200


@override_settings(SENTRY_INGEST_MAX_ENVELOPE_SIZE=1_000_000)
def test_a_key_named_only_in_the_envelope_is_checked_before_the_rest_is_decoded(key):
    # Whole, the body would be a 413 (a bomb); the key is refused first.
    header = json.dumps({"dsn": "https://unknown@example.com/42"}).encode()
    body = gzip.compress(header + b"\n" + b" " * 50_000_000)

    response = post(body, key, encoding="gzip", auth="")

    assert response.status_code == 403


@override_settings(SENTRY_INGEST_MAX_ENVELOPE_SIZE=1_000_000)
def test_a_good_key_named_only_in_the_envelope_still_has_the_body_limited(key):
    header = json.dumps({"dsn": f"https://{key.public_key}@example.com/42"}).encode()
    body = gzip.compress(header + b"\n" + b" " * 50_000_000)

    response = post(body, key, encoding="gzip", auth="")

    assert response.status_code == 413


def test_a_key_named_only_in_the_envelope_is_accepted(key):
    body = event_envelope(
        exception_event(), dsn=f"https://{key.public_key}@example.com/42"
    )

    response = post(gzip.compress(body), key, encoding="gzip", auth="")

    assert response.status_code == 200
    assert stored() == (1, 1)


def test_an_envelope_of_more_than_a_thousand_items_is_413(key):
    body = b"{}\n" + b'{"type":"session","length":2}\n{}\n' * 1001

    response = post(body, key)

    assert response.status_code == 413
    assert "items" in response.json()["detail"]


def test_blank_lines_between_items_are_skipped(key):
    payload = json.dumps(exception_event()).encode()
    body = (
        b"{}\n\n \r\n\t\n"
        + json.dumps({"type": "event", "length": len(payload)}).encode()
        + b"\n"
        + payload
        + b"\n" * 10_000
    )

    response = post(body, key)

    assert response.status_code == 200
    assert stored() == (1, 1)


@pytest.mark.parametrize("level", ["²", "٣٠", "9" * 5000, 1e308, "inf"])
def test_an_event_with_any_level_is_stored_as_an_error(key, level):
    body = event_envelope(exception_event(level=level))

    response = post(body, key)

    assert response.status_code == 200
    assert list(Message.objects.values_list("level", flat=True)) == [40]


# --- compression layouts, fuzzed ------------------------------------------------------

ENCODING_NAMES = [
    "gzip",
    "x-gzip",
    " GZIP ",
    "gzip, identity",
    "gzip, gzip",
    "deflate, gzip",
    "br, gzip",
    "gzip;q=1",
    "compress",
    "zstd",
    "deflate",
    "br",
    "",
]
ANSWERS = {200, 400, 401, 403, 413, 415, 429}


@fuzz(300)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=len(VALID)), max_size=20),
    empty_members=st.integers(min_value=0, max_value=20),
    padding=st.integers(min_value=0, max_value=3),
    truncate=st.integers(min_value=0, max_value=30),
    encoding=st.sampled_from(ENCODING_NAMES),
)
def test_any_gzip_member_layout_is_answered_without_a_5xx(
    key, cuts, empty_members, padding, truncate, encoding
):
    # VALID cut into pieces, one gzip member each, empty members in between
    # and zero bytes after each; then the body perhaps cut short.
    bounds = sorted({0, len(VALID), *cuts})
    pieces = [VALID[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    members = [gzip.compress(piece) + b"\0" * padding for piece in pieces]
    members[len(members) // 2 : len(members) // 2] = [EMPTY_MEMBER] * empty_members
    body = b"".join(members)
    body = body[: len(body) - truncate]
    before = stored()

    response = post(body, key, encoding=encoding)

    assert response.status_code in ANSWERS, response.content
    if response.status_code != 200:
        assert stored() == before
    one_gzip_layer = encoding.strip().lower() in ("gzip", "x-gzip", "gzip, identity")
    if one_gzip_layer and not truncate and len(members) <= 16:
        assert response.status_code == 200, response.content


@fuzz(200)
@given(
    garbage=st.binary(max_size=300),
    coding=st.sampled_from(["gzip", "deflate", "br"]),
    declared=st.sampled_from(ENCODING_NAMES),
)
def test_well_compressed_garbage_is_a_4xx_and_leaves_no_rows(
    key, garbage, coding, declared
):
    import brotli

    compress = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}
    before = stored()

    response = post(compress[coding](garbage), key, encoding=declared)

    assert response.status_code in ANSWERS - {429}
    if response.status_code != 200:
        assert stored() == before


@fuzz(200)
@given(
    dsn=st.one_of(st.text(max_size=80), st.integers(), st.none()),
    encoding=st.sampled_from(["gzip", "deflate", "br", ""]),
)
def test_any_dsn_in_the_envelope_header_is_answered_cleanly(key, dsn, encoding):
    from tests.ingest_factories import compress

    body = event_envelope(exception_event(), dsn=dsn)
    before = stored()

    response = post(compress(body, encoding), key, encoding=encoding, auth="")

    assert response.status_code in (200, 400, 401, 403)
    if response.status_code != 200:
        assert stored() == before


def test_a_long_envelope_header_that_alone_names_the_key_is_413(key):
    # Else a long first line would get a bomb after it decoded before the key
    # is checked.
    dsn = f"https://{key.public_key}@example.com/42"
    body = event_envelope(exception_event(), dsn=dsn, sdk={"name": "x" * 70_000})

    keyless = post(body, key, auth="")
    with_key = post(body, key)

    assert keyless.status_code == 413
    assert "X-Sentry-Auth" in keyless.json()["detail"]
    assert with_key.status_code == 200
