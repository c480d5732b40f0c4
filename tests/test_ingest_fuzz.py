"""Hostile envelopes never make the endpoint fail: no answer is a 5xx."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest_factories import SDK_AUTH

pytestmark = pytest.mark.django_db

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
EVENT_FIELDS = (
    "event_id",
    "timestamp",
    "level",
    "logger",
    "message",
    "logentry",
    "exception",
    "stacktrace",
    "threads",
    "request",
    "user",
    "tags",
    "contexts",
    "breadcrumbs",
    "fingerprint",
    "extra",
    "release",
    "environment",
    "transaction",
    "culprit",
    "server_name",
)
#: Events whose known fields hold values of any JSON type.
events = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(EVENT_FIELDS, json_values),
)
exceptions = st.fixed_dictionaries(
    {},
    optional={
        "type": json_values,
        "value": json_values,
        "module": json_values,
        "mechanism": json_values,
        "stacktrace": st.fixed_dictionaries(
            {},
            optional={
                "frames": st.lists(
                    st.dictionaries(
                        st.sampled_from(
                            ["function", "module", "lineno", "vars", "in_app"]
                        ),
                        json_values,
                    )
                    | json_values,
                    max_size=3,
                )
            },
        ),
    },
)
item_types = st.sampled_from(
    ["event", "feedback", "user_report", "attachment", "session", "weird"]
)


def fuzz_key():
    from sentry.models import ProjectKey
    from tests.ingest_factories import make_project

    key, _ = ProjectKey.objects.get_or_create(
        public_key="f" * 32, defaults={"label": "fuzz", "project": make_project(42)}
    )
    return key


def item(item_type, payload, with_length):
    header = {"type": item_type}
    if with_length:
        header["length"] = len(payload)
    return json.dumps(header).encode() + b"\n" + payload


@settings(
    max_examples=50,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    event=events,
    exception_values=st.lists(exceptions, max_size=3),
    item_type=item_types,
    with_length=st.booleans(),
    header=st.dictionaries(
        st.sampled_from(["event_id", "sent_at", "dsn"]), json_values
    ),
    noise=st.binary(max_size=40),
)
def test_no_envelope_gets_a_5xx(
    client, event, exception_values, item_type, with_length, header, noise
):
    key = fuzz_key()
    event = dict(event, exception={"values": exception_values})
    payload = json.dumps(event).encode()
    body = (
        json.dumps(header).encode()
        + b"\n"
        + item(item_type, payload, with_length)
        + b"\n"
        + noise
    )

    response = client.post(
        "/sentry/api/42/envelope/",
        body,
        content_type="application/x-sentry-envelope",
        HTTP_X_SENTRY_AUTH=SDK_AUTH.format(key=key.public_key),
    )

    assert response.status_code < 500, response.content


@settings(max_examples=50, deadline=None, database=None)
@given(
    body=st.binary(max_size=200),
    encoding=st.sampled_from(
        ["", "gzip", "deflate", "br", "identity", "x", "GZIP", "gzip, gzip", "br, br"]
    ),
)
def test_no_random_bytes_get_a_5xx(body, encoding):
    from django.test import Client

    response = Client().post(
        f"/sentry/api/42/envelope/?sentry_key={fuzz_key().public_key}",
        b'{}\n{"type":"event"}\n' + body if body[:1] == b"{" else body,
        content_type="application/x-sentry-envelope",
        HTTP_CONTENT_ENCODING=encoding,
    )
    assert response.status_code < 500


@settings(max_examples=200, deadline=None, database=None)
@given(event=events, exception_values=st.lists(exceptions, max_size=3))
def test_any_event_maps_and_prepares_without_an_exception(event, exception_values):
    from sentry import pipeline
    from sentry.ingest.mapping import map_event

    event = dict(event, exception={"values": exception_values})

    prepared = pipeline.prepare(map_event(event))

    assert len(prepared["checksum"]) == 32
