"""
Complexity guards for every ingest step over client bytes.

Each guard sends a crafted worst case at size ``n`` and ``8n`` and fails when
the large one costs far more than 8 times the small one (see
:mod:`tests.complexity`). Whole requests go through ``django.test.Client``:
body read, decoding, envelope and JSON parsing, auth header parsing, checks
and queuing (digested by a worker, not inline: the digest's steps have
guards of their own, below for mapping and grouping). The inputs are the ones
that were slow: a body of empty gzip members, ``gzip, gzip``, ``"%" + "0" *
n`` in a log template...
"""

import gzip
import json
import time
import zlib

import brotli
import pytest
from django.test import Client, override_settings

from sentry import grouping
from sentry.ingest import mapping
from sentry.utils import wire
from tests.ingest_factories import SDK_AUTH, envelope, frame, make_key

from .complexity import assert_linear

pytestmark = [
    pytest.mark.django_db,
    # Queued, not digested: what is timed is the request.
    pytest.mark.usefixtures("_queue_only"),
]

EMPTY_MEMBER = gzip.compress(b"")


@pytest.fixture
def _queue_only(settings):
    settings.SENTRY_DIGEST = "worker"


@pytest.fixture
def key():
    return make_key(public_key="c" * 32)


def poster(key=None, encoding=None, expect=(200,), auth=None, **headers):
    """
    Return ``run(body)``: POST ``body`` as an envelope, check the status.

    Guards time the request; tests/test_ingest_hostile.py holds the answers.
    """
    client = Client()
    if auth is None and key is not None:
        auth = SDK_AUTH.format(key=key.public_key)
    if auth:
        headers["HTTP_X_SENTRY_AUTH"] = auth
    if encoding:
        headers["HTTP_CONTENT_ENCODING"] = encoding

    def run(body):
        response = client.post(
            "/sentry/api/42/envelope/",
            body,
            content_type="application/x-sentry-envelope",
            **headers,
        )
        assert response.status_code in expect, response.content

    return run


def event_item(payload):
    return envelope(("event", payload))


def text_event(n):
    return event_item({"message": "m", "extra": {"blob": "x" * n}})


# --- body read and decoding ---------------------------------------------------


COMPRESSORS = {
    "identity": lambda body: body,
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
}


@override_settings(SENTRY_INGEST_MAX_EVENT_SIZE=50_000_000)
@pytest.mark.parametrize("encoding", sorted(COMPRESSORS))
def test_reading_and_decoding_a_body_is_linear(key, encoding):
    compress = COMPRESSORS[encoding]
    assert_linear(
        poster(key, encoding=encoding),
        lambda n: compress(text_event(n)),
        20_000,
        max_n=200_000,
    )


def test_a_gzip_body_of_empty_members_is_linear(key):
    # Was quadratic: a decompressor per member, the rest of the body copied.
    assert_linear(
        poster(key, encoding="gzip", expect=(200, 400)),
        lambda n: EMPTY_MEMBER * n + gzip.compress(text_event(10)),
        5_000,
        max_n=40_000,
    )


def test_stacked_gzip_of_empty_members_is_linear(key):
    # 10 KB of this cost 10 s of CPU time.
    assert_linear(
        poster(key, encoding="gzip, gzip", expect=(400, 415)),
        lambda n: gzip.compress(EMPTY_MEMBER * n),
        5_000,
        max_n=40_000,
    )


def test_empty_members_inside_a_gzip_body_are_linear(key):
    # The same layout, one layer: the inflated body is many empty members.
    assert_linear(
        poster(key, encoding="gzip", expect=(400,)),
        lambda n: EMPTY_MEMBER * 10 + gzip.compress(EMPTY_MEMBER * n),
        5_000,
        max_n=40_000,
    )


@override_settings(SENTRY_INGEST_MAX_ENVELOPE_SIZE=1_000_000)
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_a_bomb_costs_no_more_than_the_limit(key, encoding):
    compress = COMPRESSORS[encoding]
    assert_linear(
        poster(key, encoding=encoding, expect=(413,)),
        lambda n: compress(b"{}\n" + b" " * n * 1000),
        1_000,
        max_n=40_000,
    )


def test_a_key_named_only_in_the_envelope_is_checked_before_a_bomb(key):
    header = json.dumps({"dsn": "https://unknown@example.com/42"}).encode()
    assert_linear(
        poster(encoding="gzip", expect=(403, 413)),
        lambda n: gzip.compress(header + b"\n" + b" " * n * 1000),
        1_000,
        max_n=40_000,
    )


# --- envelope parsing -------------------------------------------------------------


def test_an_envelope_of_many_newlines_is_linear(key):
    assert_linear(
        poster(key), lambda n: text_event(10) + b"\n" * n, 100_000, max_n=2_000_000
    )


def test_an_envelope_of_many_items_is_linear(key):
    item = b'{"type":"session","length":2}\n{}\n'
    assert_linear(poster(key, expect=(200, 413)), lambda n: b"{}\n" + item * n, 200)


def test_length_prefixed_items_are_linear(key):
    def make(n):
        payload = b"a" * n
        return envelope(*[("attachment", payload)] * 100)

    assert_linear(poster(key), make, 1_000, max_n=10_000)


def test_items_without_length_are_linear(key):
    def make(n):
        return b"{}\n" + (b'{"type":"attachment"}\n' + b"a" * n + b"\n") * 100

    assert_linear(poster(key), make, 1_000, max_n=10_000)


def test_a_huge_envelope_header_line_is_linear(key):
    assert_linear(
        poster(key),
        lambda n: json.dumps({"sdk": {"name": "x" * n}}).encode() + b"\n",
        100_000,
        max_n=2_000_000,
    )


# --- JSON -----------------------------------------------------------------------------


@override_settings(SENTRY_INGEST_MAX_EVENT_SIZE=50_000_000)
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda n: b'{"a":' * n + b"1" + b"}" * n, id="deep-objects"),
        pytest.param(lambda n: b'{"a":' + b"[" * n + b"]" * n + b"}", id="deep-lists"),
        pytest.param(
            lambda n: json.dumps({f"k{i}": i for i in range(n)}).encode(),
            id="many-keys",
        ),
        pytest.param(
            lambda n: b'{"message":"' + b'\\u00e9\\n\\"' * n + b'"}', id="escapes"
        ),
        pytest.param(
            lambda n: b'{"message":"' + b"a" * (n * 10) + b'"}', id="long-string"
        ),
    ],
)
def test_parsing_an_event_is_linear(key, make):
    assert_linear(
        poster(key, expect=(200, 400)),
        lambda n: envelope(("event", make(n))),
        2_000,
        max_n=200_000,
    )


# --- auth ---------------------------------------------------------------------------


def test_a_long_auth_header_is_linear(key):
    def make(n):
        return SDK_AUTH.format(key=key.public_key) + ", x=y" * n

    def run(auth):
        poster(key, auth=auth)(text_event(10))

    assert_linear(run, make, 5_000, max_n=500_000)


def test_a_long_signed_store_body_is_linear(settings):
    settings.SENTRY_KEY = "shared-secret"
    settings.SENTRY_INGEST_MAX_EVENT_SIZE = 50_000_000
    client = Client()

    def run(body):
        timestamp = int(time.time())
        response = client.post(
            "/sentry/store/",
            body,
            content_type=wire.CONTENT_TYPE,
            HTTP_CONTENT_ENCODING="deflate",
            HTTP_X_SENTRY_TIMESTAMP=str(timestamp),
            HTTP_X_SENTRY_SIGNATURE=wire.sign("shared-secret", timestamp, body),
        )
        assert response.status_code == 200, response.content

    assert_linear(
        run,
        lambda n: zlib.compress(json.dumps({"message": "x" * n}).encode()),
        20_000,
        max_n=2_000_000,
    )


# --- mapping an event to the classic model -----------------------------------------


def exception_value(frames):
    return {
        "type": "ValueError",
        "value": "bad",
        "stacktrace": {
            "frames": [frame("f", i, f"line {i}", a="1") for i in range(frames)]
        },
    }


MAPPING_INPUTS = {
    "many-frames": lambda n: {"exception": {"values": [exception_value(n)]}},
    "many-exceptions": lambda n: {
        "exception": {"values": [exception_value(2) for _ in range(n)]}
    },
    "huge-breadcrumbs": lambda n: {
        "breadcrumbs": {"values": [{"message": "m" * 10} for _ in range(n)]}
    },
    "deep-contexts": lambda n: {"contexts": {"deep": _nested(min(n, 400))}, "x": n},
    "many-tags": lambda n: {"tags": [[f"t{i}", "v"] for i in range(n)]},
    "zero-padded-placeholder": lambda n: {
        "logentry": {"message": "%" + "0" * n + "!", "params": [1]}
    },
    "many-placeholders": lambda n: {
        "logentry": {"message": "%s " * n, "params": list(range(n))}
    },
    "a named list referred to many times": lambda n: {
        "logentry": {"message": "%(a)s" * n, "params": {"a": list(range(n))}}
    },
    "a positional list then many named ones": lambda n: {
        "logentry": {"message": "%(a)s" * n, "params": [{"a": [[0] * 10] * n}]}
    },
    "long-numbers": lambda n: {
        "timestamp": "1" * n,
        "exception": {
            "values": [{"type": "E", "stacktrace": {"frames": [{"lineno": "9" * n}]}}]
        },
    },
}


def _nested(depth):
    value = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("name", sorted(MAPPING_INPUTS))
def test_mapping_an_event_is_linear(name):
    assert_linear(mapping.map_event, MAPPING_INPUTS[name], 500, max_n=200_000)


# --- grouping -----------------------------------------------------------------------


def grouped_event(frames, fingerprint=None, message=""):
    return {
        "message": message,
        "level": 40,
        "data": {"exception": {"values": [exception_value(frames)]}},
        "fingerprint": fingerprint,
    }


GROUPING_INPUTS = {
    "huge-stack": lambda n: grouped_event(n),
    "default-in-every-fingerprint-part": lambda n: grouped_event(
        n, ["{{ default }}"] * n
    ),
    "long-fingerprint-parts": lambda n: grouped_event(1, ["x" * n, "{{default}}"]),
    "message-of-addresses": lambda n: {
        "message": "0x1234567 " * n,
        "level": 40,
        "data": {},
    },
    "message-of-near-addresses": lambda n: {
        "message": "0x" + "a" * n,
        "level": 40,
        "data": {},
    },
}


@pytest.mark.parametrize("name", sorted(GROUPING_INPUTS))
def test_grouping_an_event_is_linear(name):
    assert_linear(grouping.get_checksum, GROUPING_INPUTS[name], 500, max_n=500_000)
