"""
@sentry/browser (pinned in tests/sdks/js) in headless Chromium, reporting
across origins to the app under gunicorn.

The page (``tests/sdks/js/browser_page.mjs``) is bundled by esbuild once per
module and served by a small static server on another port of 127.0.0.1:
another origin than the ingest server's, so the browser applies CORS to
every request the SDK sends, as it does on a real site.
"""

import functools
import http.server
import subprocess
import threading

import pytest

from sentry.models import Message
from tests.ingest_factories import make_key
from tests.sdk_js import JS_DIR, MODULES, installed_version, require

pytestmark = pytest.mark.slow

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Checkout</title>
<link rel="icon" href="data:,"></head>
<body>
<button id="pay">Pay</button> <button id="stock">Stock</button>
<button id="message">Slow</button> <button id="feedback">Feedback</button>
<script src="bundle.js"></script>
</body></html>
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The page, bundled and served on 127.0.0.1; yield its origin."""
    require("@sentry/browser", "esbuild")
    folder = tmp_path_factory.mktemp("browser-sdk-page")
    result = subprocess.run(
        [
            MODULES / ".bin" / "esbuild",
            "browser_page.mjs",
            "--bundle",
            "--format=iife",
            f"--outfile={folder / 'bundle.js'}",
            "--log-level=warning",
        ],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    (folder / "index.html").write_text(PAGE)
    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def pump_until(page, condition):
    """Take in the browser's events until ``condition()`` (10 s at most)."""
    for _ in range(100):
        if condition():
            return
        page.wait_for_timeout(100)
    pytest.fail("the browser never reported what the page did")


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_the_pinned_browser_sdk_is_the_one_tested():
    assert installed_version("@sentry/browser") == "11.17.0"


def test_a_page_on_another_origin_reports_its_errors_and_feedback(
    ingest_server, site, page
):
    key = make_key(label="shop-web")
    exchanges = []
    page.on(
        "requestfinished",
        lambda request: (
            exchanges.append(request)
            if request.url.startswith(ingest_server.url)
            else None
        ),
    )
    url = f"{site}/index.html?dsn={ingest_server.dsn(key)}"
    page.goto(url)

    page.click("#pay")
    page.wait_for_function("window.captured.Error")
    page.click("#stock")
    page.click("#message")
    page.wait_for_function("window.captured.RangeError && window.captured.message")
    page.click("#feedback")
    page.wait_for_function(
        "window.sent.filter(e => e.types.includes('event')).length === 3"
        " && window.sent.some(e => e.types.includes('feedback'))"
    )
    captured = page.evaluate("window.captured")
    sent = page.evaluate("window.sent")

    # The SDK read every answer: none was blocked by CORS.
    assert [e for e in sent if e["status"] != 200] == []
    assert {kind for e in sent for kind in e["types"]} >= {"event", "feedback"}

    # Playwright reports keepalive requests and page errors a moment later.
    def posts():
        return [r for r in exchanges if r.method == "POST"]

    pump_until(page, lambda: len(posts()) == len(sent) and len(page.problems) >= 2)
    for request in posts():
        assert request.all_headers()["origin"] == site
        answer = request.response().all_headers()
        assert answer["access-control-allow-origin"] == site
        assert "X-Sentry-Rate-Limits" in answer["access-control-expose-headers"]
    # Only the page's own two uncaught errors show in its console: no
    # "blocked by CORS policy".
    assert len(page.problems) == 2
    assert "payment failed for order 31" in page.problems[0]
    assert "quantity -1 out of range" in page.problems[1]

    stored = {m.message_id: m for m in ingest_server.stored(count=4)}
    assert set(stored) == set(captured.values())

    error = stored[captured["Error"]]
    assert error.class_name == "Error"
    assert error.message == "Error: payment failed for order 31"
    assert error.level == 40
    assert error.site == "shop-web"
    assert error.url == url
    assert error.server_name == "unknown"
    values = error.data["exception"]["values"]
    assert [(v["type"], v["value"]) for v in values] == [
        ("TypeError", "Cannot read properties of undefined (reading 'slice')"),
        ("Error", "payment failed for order 31"),
    ]
    innermost = values[0]["stacktrace"]["frames"][-1]
    assert innermost["filename"] == f"{site}/bundle.js"
    assert innermost["function"] == "chargeCard"
    # The SDK marks the first entry with how it was caught: by its wrapper
    # of setTimeout, unhandled by the page.
    assert values[0]["mechanism"]["type"] == "auto.browser.browserapierrors.setTimeout"
    assert values[0]["mechanism"]["handled"] is False
    assert "The above exception was the direct cause" in error.traceback
    assert f'File "{site}/bundle.js"' in error.traceback
    # As JavaScript's tools show a frame: the function and the script's name.
    assert error.view == "pay(bundle.js)"
    data = error.data
    assert data["tags"] == {
        "page": "checkout",
        "environment": "production",
        "release": "shop-web@7.8.9",
    }
    assert data["user"]["email"] == "grace@example.com"
    assert data["user"]["id"] == "b-9"
    assert data["breadcrumbs"]["values"][-1]["message"] == "pay clicked"
    assert data["request"]["url"] == url
    user_agent = page.evaluate("navigator.userAgent")
    assert data["request"]["headers"]["User-Agent"] == user_agent
    assert "HeadlessChrome" in user_agent
    assert data["sdk"]["name"] == "sentry.javascript.browser"
    assert data["sdk"]["version"] == "11.17.0"

    rejection = stored[captured["RangeError"]]
    assert rejection.message == "RangeError: quantity -1 out of range"
    assert rejection.url == url
    frames = rejection.data["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames[-1]["function"] == "loadStock"
    mechanism = rejection.data["exception"]["values"][-1]["mechanism"]
    assert mechanism["handled"] is False
    assert "onunhandledrejection" in mechanism["type"]

    warning = stored[captured["message"]]
    assert (warning.message, warning.level, warning.class_name) == (
        "Checkout took 9 seconds",
        30,
        None,
    )
    assert warning.url == url

    feedback = stored[captured["feedback"]]
    assert feedback.logger == "feedback"
    assert feedback.message == "The pay button did nothing"
    assert feedback.level == 20
    assert feedback.data["feedback"] == {
        "message": "The pay button did nothing",
        "name": "Grace",
        "contact_email": "grace@example.com",
        "associated_event_id": captured["Error"],
    }
    # captureFeedback names no page (the feedback widget does): the
    # request's is the one stored.
    assert feedback.url == url
    assert Message.objects.count() == 4


def test_an_sdk_sending_its_own_headers_passes_the_cors_preflight(
    ingest_server, site, page
):
    # A Content-Type other than text/plain makes the browser ask first
    # (OPTIONS); a refused preflight fails the SDK's fetch (status None).
    key = make_key(label="shop-web")
    page.goto(f"{site}/index.html?preflight=1&dsn={ingest_server.dsn(key)}")

    page.click("#message")
    # The SDK sends its session on its own schedule: wait for both.
    page.wait_for_function(
        "['event', 'session'].every(kind => window.sent.some("
        "e => e.types.includes(kind)))"
    )

    sent = page.evaluate("window.sent")
    assert [e for e in sent if e["status"] != 200] == []
    assert {kind for e in sent for kind in e["types"]} == {"session", "event"}
    assert page.problems == []
    (warning,) = ingest_server.stored(count=1)
    assert warning.message == "Checkout took 9 seconds"
