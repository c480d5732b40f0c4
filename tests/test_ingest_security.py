"""Browsers' CSP violation reports: both formats, stored, grouped, refused."""

import json
import logging
import time

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentry.ingest import security
from sentry.models import GroupedMessage, Message
from tests.complexity import assert_linear
from tests.ingest_factories import make_key

pytestmark = pytest.mark.django_db

REPORT_URI = "application/csp-report"
REPORT_TO = "application/reports+json"


@pytest.fixture
def key():
    return make_key()


def csp_report(blocked="https://evil.example/pixel.gif?x=1", **fields):
    report = {
        "document-uri": "https://shop.example.com/cart?step=2",
        "referrer": "https://shop.example.com/",
        "violated-directive": "img-src 'none'",
        "effective-directive": "img-src",
        "original-policy": "img-src 'none'; report-uri /csp",
        "blocked-uri": blocked,
        "status-code": 200,
        "source-file": "https://shop.example.com/app.js",
        "line-number": 12,
        "column-number": 7,
        "script-sample": "",
        "disposition": "enforce",
    }
    report.update(fields)
    return {"csp-report": report}


def violation(blocked="https://cdn.bad.example/x.js", **fields):
    body = {
        "documentURL": "https://shop.example.com/checkout",
        "referrer": "",
        "blockedURL": blocked,
        "effectiveDirective": "script-src-elem",
        "originalPolicy": "script-src 'self'; report-to csp",
        "sourceFile": "https://shop.example.com/checkout",
        "sample": "",
        "disposition": "enforce",
        "statusCode": 200,
        "lineNumber": 3,
        "columnNumber": 1,
    }
    body.update(fields)
    return {
        "type": "csp-violation",
        "age": 10,
        "url": "https://shop.example.com/checkout",
        "user_agent": "Mozilla/5.0 Test",
        "body": body,
    }


def post_report(client, body, key, content_type=REPORT_URI, project_id=42, **extra):
    query = f"?sentry_key={key.public_key}" if key is not None else ""
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    return client.post(
        f"/sentry/api/{project_id}/security/{query}",
        body,
        content_type=content_type,
        **extra,
    )


# --- stored --------------------------------------------------------------------


def test_a_report_uri_report_is_stored_as_a_csp_warning(client, key):
    response = post_report(client, csp_report(), key)

    assert response.status_code == 201
    assert response.content == b""
    message = Message.objects.get()
    assert message.logger == "csp"
    assert message.level == logging.WARNING
    assert message.message == "Blocked 'image' from 'evil.example'"
    assert message.view == "img-src"
    assert message.class_name is None
    assert message.url == "https://shop.example.com/cart?step=2"
    assert message.site == "shop"
    data = message.data
    assert data["tags"] == {
        "effective-directive": "img-src",
        "blocked-host": "evil.example",
    }
    assert data["csp"] == {
        "document_uri": "https://shop.example.com/cart?step=2",
        "referrer": "https://shop.example.com/",
        "violated_directive": "img-src 'none'",
        "effective_directive": "img-src",
        "original_policy": "img-src 'none'; report-uri /csp",
        "blocked_uri": "https://evil.example/pixel.gif?x=1",
        "status_code": 200,
        "source_file": "https://shop.example.com/app.js",
        "line_number": 12,
        "column_number": 7,
        "disposition": "enforce",
    }


def test_a_report_to_batch_stores_its_csp_reports_and_ignores_the_others(client, key):
    batch = [
        violation(),
        {"type": "deprecation", "body": {"id": "x"}},
        {"type": "network-error", "body": {}},
        "not a report",
        violation(blocked="inline", effectiveDirective="style-src-attr"),
    ]

    response = post_report(client, batch, key, content_type=REPORT_TO)

    assert response.status_code == 201
    messages = {m.message: m for m in Message.objects.all()}
    assert set(messages) == {
        "Blocked 'script' from 'cdn.bad.example'",
        "Blocked inline 'style'",
    }
    script = messages["Blocked 'script' from 'cdn.bad.example'"]
    assert script.url == "https://shop.example.com/checkout"
    assert script.data["request"]["headers"] == {"User-Agent": "Mozilla/5.0 Test"}
    assert script.data["csp"] == {
        "document_uri": "https://shop.example.com/checkout",
        "blocked_uri": "https://cdn.bad.example/x.js",
        "effective_directive": "script-src-elem",
        "original_policy": "script-src 'self'; report-to csp",
        "source_file": "https://shop.example.com/checkout",
        "disposition": "enforce",
        "status_code": 200,
        "line_number": 3,
        "column_number": 1,
    }


def test_reports_are_grouped_by_directive_and_blocked_host(client, key):
    post_report(client, csp_report("https://evil.example/a.gif"), key)
    post_report(
        client,
        csp_report(
            "https://evil.example/b.gif",
            **{"document-uri": "https://shop.example.com/other"},
        ),
        key,
    )
    post_report(client, csp_report("https://other.example/a.gif"), key)
    post_report(
        client, [violation("https://evil.example/a.js")], key, content_type=REPORT_TO
    )

    assert Message.objects.count() == 4
    groups = {g.message: g.times_seen for g in GroupedMessage.objects.all()}
    assert groups == {
        "Blocked 'image' from 'evil.example'": 2,
        "Blocked 'image' from 'other.example'": 1,
        "Blocked 'script' from 'evil.example'": 1,
    }


def test_a_report_missing_fields_is_stored_with_what_is_there(client, key):
    response = post_report(
        client, {"csp-report": {"violated-directive": "font-src 'self'"}}, key
    )
    empty = post_report(client, {"csp-report": "nonsense"}, key)

    assert (response.status_code, empty.status_code) == (201, 201)
    font = Message.objects.get(view="font-src")
    assert font.message == "Blocked 'font' from 'unknown'"
    assert font.data["csp"] == {"violated_directive": "font-src 'self'"}
    assert Message.objects.get(view="unknown").data["csp"] == {}


def test_the_blocked_urls_query_string_is_scrubbed(client, key):
    blocked = "https://evil.example/collect?token=s3cr3t-value&page=2"

    post_report(client, csp_report(blocked), key)

    stored = Message.objects.get().data["csp"]["blocked_uri"]
    assert "s3cr3t-value" not in stored
    assert "page=2" in stored


def test_the_endpoint_answers_without_the_trailing_slash(client, key):
    response = client.post(
        f"/sentry/api/42/security?sentry_key={key.public_key}",
        json.dumps(csp_report()),
        content_type=REPORT_URI,
    )

    assert response.status_code == 201


# --- refused -------------------------------------------------------------------


def test_a_bad_or_missing_key_is_refused_and_stores_nothing(client, key):
    inactive = make_key(is_active=False)
    foreign = make_key(project_id=7)

    statuses = [
        post_report(client, csp_report(), inactive).status_code,
        post_report(client, csp_report(), foreign).status_code,
        post_report(client, csp_report(), None).status_code,
        client.post(
            "/sentry/api/42/security/?sentry_key=nope",
            json.dumps(csp_report()),
            content_type=REPORT_URI,
        ).status_code,
    ]

    assert statuses == [403, 403, 401, 403]
    assert Message.objects.count() == 0


def test_bad_json_is_a_400_in_json(client, key):
    for body in (b"{not json", b"\xff\xfe", b"[1, 2", b'"a string"'):
        response = post_report(client, body, key)
        assert response.status_code == 400, body
        assert response.json()["detail"]
    report_to_object = post_report(client, {"a": 1}, key, content_type=REPORT_TO)
    assert report_to_object.status_code == 400
    assert Message.objects.count() == 0


def test_another_content_type_is_a_415(client, key):
    response = post_report(client, csp_report(), key, content_type="text/plain")

    assert response.status_code == 415
    assert "application/csp-report" in response.json()["detail"]


@override_settings(SENTRY_INGEST_MAX_EVENT_SIZE=2000)
def test_a_report_over_the_event_size_cap_is_a_413(client, key):
    big = csp_report(**{"original-policy": "x" * 3000})
    big_in_batch = [violation(), violation(originalPolicy="x" * 3000)]

    assert post_report(client, big, key).status_code == 413
    assert (
        post_report(client, big_in_batch, key, content_type=REPORT_TO).status_code
        == 413
    )
    assert Message.objects.count() == 0


def test_a_batch_of_too_many_reports_is_a_413(client, key):
    batch = [violation()] * (security.MAX_REPORTS + 1)

    response = post_report(client, batch, key, content_type=REPORT_TO)

    assert response.status_code == 413
    assert Message.objects.count() == 0


@pytest.fixture
def fresh_window():
    from sentry.ingest.ratelimit import WINDOW

    left = WINDOW - time.time() % WINDOW
    if left < 10:
        time.sleep(left + 0.1)


def test_each_report_counts_against_the_rate_limit(client, fresh_window):
    key = make_key(rate_limit=3)
    batch = [violation(f"https://h{n}.example/x.js") for n in range(2)]

    first = post_report(client, batch, key, content_type=REPORT_TO)
    second = post_report(client, batch, key, content_type=REPORT_TO)
    third = post_report(client, csp_report(), key)

    assert first.status_code == 201
    assert "X-Sentry-Rate-Limits" not in first
    assert second.status_code == 201
    assert second["X-Sentry-Rate-Limits"].endswith(":key:key_quota")
    assert third.status_code == 429
    assert Message.objects.count() == 3


# --- CORS ----------------------------------------------------------------------


def test_a_cors_preflight_is_answered(client):
    response = client.options(
        "/sentry/api/42/security/",
        HTTP_ORIGIN="https://shop.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Content-Type" in response["Access-Control-Allow-Headers"]


def test_answers_carry_cors_headers(client, key):
    response = post_report(
        client, csp_report(), key, HTTP_ORIGIN="https://shop.example.com"
    )

    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == "https://shop.example.com"


@override_settings(SENTRY_INGEST_CORS_ORIGINS=["https://shop.example.com"])
def test_reports_from_origins_not_allowed_are_403(client, key):
    response = post_report(
        client, csp_report(), key, HTTP_ORIGIN="https://evil.example.com"
    )

    assert response.status_code == 403
    assert Message.objects.count() == 0


# --- hostile bodies -------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
FIELD_NAMES = [
    name
    for fields in (*security.FIELDS, *security.NUMBER_FIELDS)
    for name in fields[:2]
]
report_fields = st.dictionaries(st.sampled_from(FIELD_NAMES), json_values)
bodies = (
    st.binary(max_size=200)
    | json_values.map(lambda value: json.dumps(value).encode())
    | report_fields.map(lambda fields: json.dumps({"csp-report": fields}).encode())
    | st.lists(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["csp-violation", "other"]) | json_values},
            optional={"body": report_fields | json_values, "age": json_values},
        ),
        max_size=4,
    ).map(lambda reports: json.dumps(reports).encode())
)


@settings(
    max_examples=80,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=bodies, content_type=st.sampled_from([REPORT_URI, REPORT_TO, "text/x"]))
def test_no_body_gets_a_5xx_and_a_refused_one_stores_nothing(
    client, body, content_type
):
    from sentry.models import ProjectKey
    from tests.ingest_factories import make_project

    key, _ = ProjectKey.objects.get_or_create(
        public_key="c" * 32, defaults={"label": "fuzz", "project": make_project(42)}
    )
    before = Message.objects.count()

    response = post_report(client, body, key, content_type=content_type)

    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert Message.objects.count() == before


def test_parsing_a_batch_is_linear_in_its_reports():
    def make_batch(n):
        return json.dumps([violation(f"https://h{i}.example/x") for i in range(n)])

    def run(body):
        for report in security.parse_reports(body.encode(), REPORT_TO):
            security.to_event(report)

    with override_settings(SENTRY_INGEST_MAX_EVENT_SIZE=10**9):
        original = security.MAX_REPORTS
        security.MAX_REPORTS = 10**9
        try:
            assert_linear(run, make_batch, 50)
        finally:
            security.MAX_REPORTS = original


def test_long_hostile_urls_and_directives_cost_linear_time():
    def make_report(n):
        return json.dumps(
            csp_report(
                "https://" + "a." * n + "example/" + "?" * n,
                **{"violated-directive": " " * n + "img-src" + "\t" * n},
            )
        )

    def run(body):
        for report in security.parse_reports(body.encode(), REPORT_URI):
            security.to_event(report)

    with override_settings(SENTRY_INGEST_MAX_EVENT_SIZE=10**9):
        assert_linear(run, make_report, 1000)
