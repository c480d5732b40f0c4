"""
Chromium's Reporting API batches (CSP ``report-to``) reach the security endpoint.

What Chromium does, and so what these tests set up:

- it takes a reporting endpoint only from an HTTPS page and only at an HTTPS
  URL: "potentially trustworthy" is not enough, ``http://127.0.0.1`` and
  ``http://localhost`` pages and endpoints are ignored without a word. The
  page and the ingest server (gunicorn, as deployed) speak TLS here, with a
  certificate made for the test run that the browser trusts by its key
  (``--ignore-certificate-errors-spki-list``; every other certificate is
  checked as usual);
- it batches reports and sends them up to a minute later;
  ``--short-reporting-delay`` makes that a fraction of a second, and the
  tests poll the database rather than wait for a time;
- it posts ``application/reports+json``, which is not a CORS-safelisted
  type, so each batch to another origin is preceded by a preflight
  ``OPTIONS``, and posts nothing when the preflight is refused (an origin
  outside ``SENTRY_INGEST_CORS_ORIGINS``). gunicorn's access log shows what
  was asked and answered.
"""

import base64
import hashlib
import http.server
import json
import os
import shutil
import ssl
import subprocess
import threading
from urllib.parse import urlsplit

import pytest

from sentry.models import GroupedMessage
from tests.browser import CHROMIUM, CHROMIUM_ARGS, WAIT
from tests.ingest_factories import make_key
from tests.processes import ROOT, Process, free_port, listening, server_env, wait_for
from tests.sdk_server import IngestServer, gunicorn_args

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Each access-log line: method, path, status, then request and answer headers.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "method": "%(m)s",
        "path": "%(U)s",
        "status": "%(s)s",
        "origin": "%({origin}i)s",
        "content_type": "%({content-type}i)s",
        "request_method": "%({access-control-request-method}i)s",
        "request_headers": "%({access-control-request-headers}i)s",
        "allow_origin": "%({access-control-allow-origin}o)s",
        "allow_methods": "%({access-control-allow-methods}o)s",
        "allow_headers": "%({access-control-allow-headers}o)s",
    }
)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A certificate for 127.0.0.1 and localhost: its files and its key's pin."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is missing: apt-get install openssl")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "ec"),
            *("-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"),
            *("-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    public_key = subprocess.run(
        [openssl, "x509", "-in", cert, "-pubkey", "-noout"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # The pin: the SHA-256 of the DER SubjectPublicKeyInfo, in base64.
    der = base64.b64decode("".join(public_key.strip().splitlines()[1:-1]))
    pin = base64.b64encode(hashlib.sha256(der).digest()).decode()
    return {"cert": str(cert), "key": str(key), "pin": pin}


@pytest.fixture(scope="module")
def reporting_chromium(certificate):
    """Chromium as the other browser tests have it, reporting at once over TLS."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    args = [
        *CHROMIUM_ARGS,
        "--short-reporting-delay",
        f"--ignore-certificate-errors-spki-list={certificate['pin']}",
    ]
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
            yield browser
            browser.close()
    finally:
        if before is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def page(reporting_chromium):
    context = reporting_chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    yield page
    context.close()


class TLSIngestServer(IngestServer):
    """gunicorn on HTTPS, its access log kept as a list of dicts."""

    def __init__(self, port, process, access_log):
        super().__init__(port, process)
        self.url = f"https://127.0.0.1:{port}"
        self.access_log = access_log

    def requests(self, path):
        """The requests to ``path`` so far, oldest first."""
        with open(self.access_log) as log:
            lines = [json.loads(line) for line in log if line.strip()]
        return [line for line in lines if line["path"] == path]


@pytest.fixture
def start_tls_ingest(transactional_db, certificate, tmp_path):
    """``start_tls_ingest(**env)``: a new :class:`TLSIngestServer`."""
    processes = []

    def start(**env):
        port = free_port()
        access_log = tmp_path / f"access-{port}.log"
        access_log.touch()
        args = [
            *gunicorn_args(port),
            *("--certfile", certificate["cert"], "--keyfile", certificate["key"]),
            *("--access-logfile", str(access_log)),
            *("--access-logformat", ACCESS_LOG_FORMAT),
        ]
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        processes.append(Process(args, server_env(PYTHONPATH=path, **env)))
        return TLSIngestServer(port, listening(processes[-1], port), access_log)

    yield start
    for process in processes:
        process.close()


@pytest.fixture
def tls_ingest_server(start_tls_ingest):
    return start_tls_ingest()


class Shop:
    """
    An HTTPS site on an origin of its own (never the ingest server's).

    ``shop.serve(body, headers)`` serves ``body`` with ``headers`` at a new
    path and returns its URL.
    """

    def __init__(self, certificate):
        self.pages = {}
        pages = self.pages
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate["cert"], certificate["key"])

        class Handler(http.server.BaseHTTPRequestHandler):
            def setup(self):
                # The handshake in this request's thread, not the accepting one.
                self.request.settimeout(10)
                self.request.do_handshake()
                super().setup()

            def do_GET(self):
                if self.path not in pages:
                    self.send_error(404)
                    return
                body, headers = pages[self.path]
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a connection the browser dropped mid-handshake

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(
            self.server.socket, server_side=True, do_handshake_on_connect=False
        )
        self.origin = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve(self, body, headers):
        path = f"/page-{len(self.pages)}"
        self.pages[path] = (body.encode(), headers)
        return self.origin + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shops(certificate):
    """``shops()``: a new :class:`Shop`, closed after the test."""
    opened = []

    def open_shop():
        opened.append(Shop(certificate))
        return opened[-1]

    yield open_shop
    for shop in opened:
        shop.close()


@pytest.fixture
def shop(shops):
    return shops().serve


#: Two images blocked from one host (one group), an eval blocked (another).
PAGE = """<!doctype html>
<title>Checkout</title>
<img src="https://evil.test/pixel.gif?token=s3cret">
<img src="https://evil.test/other.gif">
<script>try { eval("1 + 1"); } catch (error) {}</script>
"""


def security_endpoint(server, key):
    path = f"/sentry/api/{key.project_id}/security/"
    return path, f"{server.url}{path}?sentry_key={key.public_key}"


def origin_of(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_chromium_reporting_endpoints_batches_are_stored(page, tls_ingest_server, shop):
    key = make_key()
    path, endpoint = security_endpoint(tls_ingest_server, key)
    # The headers docs/ingest.rst gives: report-to for the browsers that know
    # it, report-uri for the others.
    policy = (
        "default-src 'self'; img-src 'self'; script-src 'unsafe-inline'; "
        f"report-uri {endpoint}; report-to csp-endpoint"
    )
    url = shop(
        PAGE,
        {
            "Reporting-Endpoints": f'csp-endpoint="{endpoint}"',
            "Content-Security-Policy": policy,
        },
    )

    page.goto(url)

    messages = tls_ingest_server.stored(count=3, logger="csp")
    assert page.problems == []
    by_blocked = {m.data["csp"]["blocked_uri"]: m for m in messages}
    assert set(by_blocked) == {
        "https://evil.test/pixel.gif?token=********",
        "https://evil.test/other.gif",
        "eval",
    }
    user_agent = page.evaluate("navigator.userAgent")
    image = by_blocked["https://evil.test/pixel.gif?token=********"]
    assert image.logger == "csp"
    assert image.get_level_display() == "warning"
    assert image.message == "Blocked 'image' from 'evil.test'"
    assert image.view == "img-src"
    assert image.url == url
    assert image.data["tags"] == {
        "effective-directive": "img-src",
        "blocked-host": "evil.test",
    }
    assert image.data["request"] == {
        "url": url,
        "headers": {"User-Agent": user_agent},
    }
    csp = image.data["csp"]
    assert csp == {
        "document_uri": url,
        "blocked_uri": "https://evil.test/pixel.gif?token=********",
        "effective_directive": "img-src",
        "original_policy": policy.replace(key.public_key, "********"),
        "source_file": url,
        "line_number": csp["line_number"],
        "column_number": csp["column_number"],
        "status_code": 200,
        "disposition": "enforce",
    }
    assert csp["line_number"] >= 1 and csp["column_number"] >= 1
    evaluated = by_blocked["eval"]
    assert evaluated.message == "Blocked eval 'script'"
    assert evaluated.view == "script-src"
    assert evaluated.data["csp"]["effective_directive"] == "script-src"
    assert evaluated.url == url
    # Grouped by directive and blocked host, whichever image it was.
    groups = {g.message: g.times_seen for g in GroupedMessage.objects.all()}
    assert groups == {
        "Blocked 'image' from 'evil.test'": 2,
        "Blocked eval 'script'": 1,
    }
    assert_batches_answered(tls_ingest_server, path, origin_of(url))


def test_chromium_report_to_header_batches_are_stored(page, tls_ingest_server, shop):
    key = make_key()
    path, endpoint = security_endpoint(tls_ingest_server, key)
    report_to = {
        "group": "csp-endpoint",
        "max_age": 86400,
        "endpoints": [{"url": endpoint}],
    }
    url = shop(
        '<!doctype html><img src="https://evil.test/pixel.gif">',
        {
            "Report-To": json.dumps(report_to),
            "Content-Security-Policy": "img-src 'self'; report-to csp-endpoint",
        },
    )

    page.goto(url)

    [message] = tls_ingest_server.stored(count=1, logger="csp")
    assert message.message == "Blocked 'image' from 'evil.test'"
    assert message.url == url
    assert message.data["csp"]["blocked_uri"] == "https://evil.test/pixel.gif"
    assert message.data["csp"]["document_uri"] == url
    assert_batches_answered(tls_ingest_server, path, origin_of(url))


def test_chromium_report_only_policies_report_through_report_to(
    page, tls_ingest_server, shop
):
    key = make_key()
    path, endpoint = security_endpoint(tls_ingest_server, key)
    url = shop(
        '<!doctype html><img src="https://evil.test/pixel.gif">',
        {
            "Reporting-Endpoints": f'csp-endpoint="{endpoint}"',
            "Content-Security-Policy-Report-Only": (
                "img-src 'self'; report-to csp-endpoint"
            ),
        },
    )

    page.goto(url)

    [message] = tls_ingest_server.stored(count=1, logger="csp")
    assert message.message == "Blocked 'image' from 'evil.test'"
    assert message.data["csp"]["disposition"] == "report"
    assert message.data["csp"]["original_policy"] == (
        "img-src 'self'; report-to csp-endpoint"
    )
    assert_batches_answered(tls_ingest_server, path, origin_of(url))


def test_chromium_posts_no_batch_its_preflight_refuses(page, start_tls_ingest, shops):
    refused, allowed = shops(), shops()
    server = start_tls_ingest(SENTRY_SERVER_CORS_ORIGINS=allowed.origin)
    key = make_key()
    path, endpoint = security_endpoint(server, key)
    headers = {
        "Reporting-Endpoints": f'csp-endpoint="{endpoint}"',
        "Content-Security-Policy": "img-src 'self'; report-to csp-endpoint",
    }
    body = '<!doctype html><img src="https://evil.test/pixel.gif">'

    page.goto(refused.serve(body, headers))
    assert wait_for(lambda: server.requests(path)), "no preflight came"
    allowed_url = allowed.serve(body, headers)
    page.goto(allowed_url)

    # The refused page's batch was preflighted before the allowed page was
    # opened: had Chromium posted it anyway, it would have come first.
    [message] = server.stored(count=1, logger="csp")
    assert message.url == allowed_url
    assert_batches_answered(server, path, allowed.origin)
    refusals = [r for r in server.requests(path) if r["origin"] == refused.origin]
    assert refusals
    for refusal in refusals:
        assert refusal == {
            "method": "OPTIONS",
            "path": path,
            "status": "403",
            "origin": refused.origin,
            "content_type": "-",
            "request_method": "POST",
            "request_headers": "content-type",
            "allow_origin": "-",
            "allow_methods": "-",
            "allow_headers": "-",
        }


def assert_batches_answered(server, path, origin):
    """
    Chromium preflights each batch, and both are answered as it needs: the
    preflight 200 with the page's origin, POST and Content-Type allowed; the
    ``application/reports+json`` POST 201, readable by the page's origin.
    No ``report-uri`` report was sent beside them.
    """

    def from_origin():
        return [r for r in server.requests(path) if r["origin"] == origin]

    # gunicorn logs a request once it is answered: wait for the batches.
    assert wait_for(lambda: any(r["method"] == "POST" for r in from_origin()))
    requests = from_origin()
    assert requests[0]["method"] == "OPTIONS"
    for request in requests:
        if request["method"] == "OPTIONS":
            assert request == {
                "method": "OPTIONS",
                "path": path,
                "status": "200",
                "origin": origin,
                "content_type": "-",
                "request_method": "POST",
                "request_headers": "content-type",
                "allow_origin": origin,
                "allow_methods": "POST, OPTIONS",
                "allow_headers": request["allow_headers"],
            }
            allowed = request["allow_headers"].lower().split(", ")
            assert "content-type" in allowed
        else:
            assert request == {
                "method": "POST",
                "path": path,
                "status": "201",
                "origin": origin,
                "content_type": "application/reports+json",
                "request_method": "-",
                "request_headers": "-",
                "allow_origin": origin,
                "allow_methods": "-",
                "allow_headers": "-",
            }
