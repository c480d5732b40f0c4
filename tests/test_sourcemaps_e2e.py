"""
Source maps end to end, with the tools JavaScript teams use, unchanged.

A minified bundle of a small app with ``@sentry/browser`` is built by
esbuild, given debug ids and uploaded by ``sentry-cli`` to the live server;
headless Chromium opens it from another origin and the app throws. The event
it reports, once digested, names the original file, line, function and code.
"""

import functools
import http.server
import threading

import pytest
from django.test import Client
from django.urls import reverse

from sentry.api.tokens import EVENT_READ, UPLOAD, ApiToken
from sentry.models import ArtifactBundle, ArtifactFile
from tests.ingest_factories import make_key
from tests.sourcemap_build import build, run, sentry_cli, tool

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>shop</title></head>
<body><button id="buy">Buy</button><script src="/app.min.js"></script></body>
</html>
"""


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "ci", password="pw", is_staff=True, is_superuser=True
    )


@pytest.fixture
def static_site(tmp_path):
    """Serve a directory on 127.0.0.1, another origin than the ingest server."""
    site = tmp_path / "site"
    site.mkdir()
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(site)
    )
    handler.func.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def upload_bundle(ingest_server, token, dist, inject, *args):
    if inject:
        run([tool("sentry-cli"), "sourcemaps", "inject", str(dist)])
    done = sentry_cli(
        ["sourcemaps", "upload", "--project", "42", *args, str(dist)],
        ingest_server.url + "/",
        token,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.mark.parametrize(
    "inject, release",
    [(True, ""), (False, "shop@1.0")],
    # With debug ids and no --release, only the debug ids can find the map;
    # without debug ids, only the release and the script's URL can.
    ids=["debug-id", "release-and-url"],
)
def test_a_browser_error_from_a_minified_bundle_shows_the_original_code(
    inject, release, ingest_server, static_site, chromium, staff, tmp_path
):
    key = make_key(label="shop-web", project_id=42)
    token = ApiToken.objects.create_token(staff, scopes=(UPLOAD,))[1]
    dist = build(tmp_path / "app", ingest_server.dsn(key), "shop@1.0")
    args = ("--release", release) if release else ()
    upload_bundle(ingest_server, token, dist, inject, *args)
    site, origin = static_site
    (site / "index.html").write_bytes(PAGE)
    (site / "app.min.js").write_bytes((dist / "app.min.js").read_bytes())

    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(origin + "/index.html")
        with page.expect_response(lambda r: "/envelope/" in r.url) as sent:
            page.click("#buy")
        assert sent.value.status == 200
    finally:
        context.close()
    (message,) = ingest_server.stored(count=1)

    assert (message.class_name, message.message) == (
        "TypeError",
        "TypeError: cart is empty",
    )
    frames = message.data["exception"]["values"][-1]["stacktrace"]["frames"]
    throw = frames[-1]
    assert throw["filename"] == "src/cart.js"
    assert throw["abs_path"] == "~/src/cart.js"
    # V8 points at the `new` of the thrown expression.
    assert (throw["lineno"], throw["colno"]) == (10, 11)
    assert throw["function"] == "sumPrices"
    assert throw["context_line"] == '    throw new TypeError("cart is empty");'
    assert throw["pre_context"][-2:] == [
        "function sumPrices(items) {",
        "  if (items.length === 0) {",
    ]
    minified = throw["sourcemap"]["minified"]
    assert minified["filename"] == origin + "/app.min.js"
    assert minified["lineno"] > 1 and minified["colno"] > 1
    assert throw["sourcemap"]["map"] == "~/app.min.js.map"
    caller = frames[-2]
    assert (caller["filename"], caller["lineno"], caller["function"]) == (
        "src/cart.js",
        4,
        "checkout",
    )
    assert message.view == "sumPrices(src/cart.js)"
    bundle = ArtifactBundle.objects.get()
    assert (bundle.project, bundle.release, bundle.file_count) == ("42", release, 2)
    with_debug_ids = ArtifactFile.objects.filter(debug_id__gt="").count()
    assert with_debug_ids == (2 if inject else 0)

    dashboard = Client()
    dashboard.force_login(staff)
    page = dashboard.get(
        reverse("sentry:message", args=[message.group_id, message.message_id])
    ).content.decode()
    assert '<span class="filename">src/cart.js</span>' in page
    assert '<span class="function">sumPrices</span>' in page
    assert "throw new TypeError(&quot;cart is empty&quot;);" in page
    assert "Minified position (source map ~/app.min.js.map)" in page
    assert f'<span class="filename">{origin}/app.min.js</span>' in page


def test_sentry_cli_is_refused_with_a_token_of_another_scope(
    ingest_server, staff, tmp_path
):
    make_key(project_id=42)
    token = ApiToken.objects.create_token(staff, scopes=(EVENT_READ,))[1]
    dist = build(tmp_path / "app", "http://k@127.0.0.1:1/sentry/42", "shop@1.0")

    done = sentry_cli(
        ["sourcemaps", "upload", "--project", "42", str(dist)],
        ingest_server.url + "/",
        token,
    )

    assert done.returncode != 0
    assert "This API token lacks the upload scope." in done.stderr
    assert not ArtifactBundle.objects.exists()
