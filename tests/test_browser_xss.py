"""
A corpus of script payloads in every event field, on every dashboard page, in
a real browser: everything shows as text and nothing runs -- rows inserted by
live updates and plugin panels included.
"""

import json

import pytest
from playwright.sync_api import expect

from sentry.models import GroupedMessage
from sentry.plugins.testing import plugin_installed
from tests.browser import assert_no_problems, log_in
from tests.dashboard_factories import record_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Each sets window.__xss if it ever runs.
PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload="window.__xss=1">',
    '\'><iframe srcdoc="<script>parent.__xss=1</script>">',
    "javascript:window.__xss=1",
    "</textarea><script>window.__xss=1</script>",
    "</title><script>window.__xss=1</script>",
    '{{ "x" }}<details open ontoggle="window.__xss=1">',
    '<a href="javascript:window.__xss=1">click</a>',
    "`;window.__xss=1;//",
]


def data_with(payload):
    """Event data with ``payload`` everywhere a page shows something."""
    frame = {
        "filename": payload,
        "abs_path": payload,
        "module": payload,
        "function": payload,
        "lineno": 7,
        "pre_context": [payload],
        "context_line": payload,
        "post_context": [payload],
        "in_app": True,
        "vars": {payload: payload, "nested": {payload: [payload]}},
    }
    return {
        "exception": {
            "values": [
                {
                    "type": payload,
                    "value": payload,
                    "module": payload,
                    "mechanism": {"type": payload, "handled": False},
                    "stacktrace": {"frames": [frame]},
                }
            ]
        },
        "request": {
            "url": payload,
            "method": payload,
            "query_string": payload,
            "GET": {payload: payload},
            "headers": {payload: payload, "Referer": payload},
            "cookies": {payload: payload},
            "data": payload,
        },
        "user": {"id": payload, "username": payload, "email": payload},
        "tags": {payload[:30]: payload},
        "contexts": {payload: {payload: payload}},
        "breadcrumbs": {
            "values": [
                {"message": payload, "category": payload, "data": {payload: payload}}
            ]
        },
        "extra": {payload: payload},
        "release": payload,
        "environment": payload,
        "sdk": {"name": payload},
    }


def record_all():
    messages = []
    for n, payload in enumerate(PAYLOADS):
        messages.append(
            record_event(
                f"{payload} #{n}",
                class_name=payload[:100],
                view=payload,
                logger=payload[:60],
                url=payload,
                server_name=payload,
                site=payload,
                data=data_with(payload),
            )
        )
    return messages


def assert_safe(page):
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("typeof parent.__xss") == "undefined"
    assert page.locator("a[href^='javascript' i]").count() == 0
    assert_no_problems(page)


@plugin_installed(
    "sentry.plugins.sentry_servers",
    "sentry.plugins.sentry_sites",
    "sentry.plugins.sentry_urls",
)
def test_no_payload_runs_on_any_page(page, live_server, browser_staff):
    messages = record_all()
    log_in(page, live_server)

    page.wait_for_selector("tr.group")
    assert page.locator("tr.group").count() == len(PAYLOADS)
    assert PAYLOADS[0] in page.inner_text("table")
    assert_safe(page)

    for message in messages[:3]:
        group = f"{live_server.url}/sentry/group/{message.group_id}/"
        for url in (
            group,
            group + "messages/",
            live_server.url + message.get_absolute_url(),
            group + "plugin/servers/",
            group + "plugin/sites/",
            group + "plugin/urls/",
        ):
            response = page.goto(url)
            assert response.status == 200, url
            page.wait_for_load_state("load")
            for details in page.locator("details").all():
                details.evaluate("node => node.open = true")
            assert_safe(page)


def test_no_payload_runs_in_rows_inserted_by_live_updates(
    page, live_server, browser_staff, settings
):
    settings.SENTRY_POLL_INTERVAL = 0.5
    record_event("already there")
    log_in(page, live_server)
    page.wait_for_selector("[data-live-status]:has-text('Live')")

    record_all()
    # (Not wait_for_function: the dashboard's CSP rightly forbids its eval.)
    expect(page.locator("tr.group")).to_have_count(len(PAYLOADS) + 1)
    page.wait_for_timeout(700)  # another poll, with every row "changed"

    text = page.inner_text("table")
    for n, payload in enumerate(PAYLOADS):
        assert f"{payload} #{n}" in text
    assert GroupedMessage.objects.count() == len(PAYLOADS) + 1
    assert_safe(page)


def test_the_raw_view_shows_payloads_as_json_text(page, live_server, browser_staff):
    message = record_all()[1]
    log_in(page, live_server)
    page.goto(live_server.url + message.get_absolute_url())
    page.locator("details.raw summary").click()

    raw = page.inner_text("details.raw pre")
    assert json.loads(raw)["extra"] == {PAYLOADS[1]: PAYLOADS[1]}
    assert_safe(page)


def highlighted_data(payload, filename):
    """An SDK event whose source lines (highlighted) and causes are ``payload``."""
    frame = {
        "filename": filename,
        "abs_path": f"/srv/app/{filename}",
        "function": "charge",
        "lineno": 7,
        # Payloads inside what a lexer reads as a string, a comment, code.
        "pre_context": [f'x = "{payload}', f"# {payload}", f"/* {payload}"],
        "context_line": payload,
        "post_context": [f"'''{payload}", f"`{payload}`", "</span></pre>" + payload],
        "in_app": True,
        "vars": {"reply": {payload: f"'{payload}'"}},
    }
    return {
        "platform": "python",
        "sdk": {"name": "sentry.python", "version": "2.0.0"},
        "exception": {
            "values": [
                {
                    "type": payload,
                    "value": payload,
                    "mechanism": {"type": "chained", "source": "__cause__"},
                    "stacktrace": {"frames": [frame]},
                },
                {
                    "type": "RuntimeError",
                    "value": "x",
                    "stacktrace": {"frames": [frame]},
                },
            ]
        },
    }


@pytest.mark.parametrize("filename", ["shop.py", "app.bundle.js", "worker.rb"])
def test_no_payload_runs_from_highlighted_source_lines(
    page, live_server, browser_staff, filename
):
    messages = [
        record_event(f"{payload} #{n}", data=highlighted_data(payload, filename))
        for n, payload in enumerate(PAYLOADS)
    ]
    log_in(page, live_server)
    page.wait_for_selector("tr.group")
    # The cause's type, shown in each row.
    assert PAYLOADS[0] in page.inner_text("table")
    assert_safe(page)

    for n, message in enumerate(messages):
        page.goto(live_server.url + message.get_absolute_url())
        page.wait_for_load_state("load")
        for details in page.locator("details").all():
            details.evaluate("node => node.open = true")
        assert_safe(page)
        # Highlighted (the extra is installed for the tests), and every line
        # reads as it was sent.
        assert page.locator("pre.source span[class^='hl-']").count() > 0
        current = page.locator("pre.source .line.current").first.inner_text()
        assert current.endswith(PAYLOADS[n])
        assert (
            page.locator("pre.source .line")
            .nth(6)
            .inner_text()
            .endswith("</span></pre>" + PAYLOADS[n])
        )
