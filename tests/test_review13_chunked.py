"""
Hostile review of chunked bodies: broken chunked framing sent to the servers
that decode it is a 400, never a 500 (gunicorn raised its own parse errors
through the view).
"""

import http.client
import json
import socket

import pytest

from tests.ingest_factories import make_key
from tests.sdk_server import free_port
from tests.test_ingest_chunked import granian, gunicorn, start, uvicorn

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

#: Framing no server may hand over as a body.
BROKEN = {
    "size-line-without-end": b"1" * 100_000 + b"\r\n",
    "size-beyond-the-body": b"ffffffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
    "negative-size": b"-5\r\nabc\r\n0\r\n\r\n",
    "size-not-hex": b"zz\r\nabc\r\n0\r\n\r\n",
    "extensions-without-end": b"3;" + b"a=b;" * 50_000 + b"\r\nabc\r\n0\r\n\r\n",
    "trailer-flood": b"3\r\nabc\r\n0\r\n" + b"X-T: y\r\n" * 20_000 + b"\r\n",
}
#: Servers whose chunked parser hands the view the stream. (granian's ASGI
#: server fails in Django's ASGI handler, before any view: not ours to fix.)
SERVERS = {
    "gunicorn": gunicorn,
    "uvicorn": uvicorn,
    "granian-wsgi": granian("wsgi"),
}


@pytest.fixture(params=list(SERVERS.values()), ids=list(SERVERS))
def server(request):
    port = free_port()
    process = start(request.param(port), port)
    yield port
    process.close()


def post_raw(port, key, body):
    """POST ``body`` after a chunked request's head; return (status, text)."""
    path = (
        f"/sentry/api/{key.project_id}/envelope/"
        f"?sentry_key={key.public_key}&sentry_version=7"
    )
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        try:
            sock.sendall(head + body)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # Answered early (and closed): read the answer.
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        sock.close()


@pytest.mark.parametrize("framing", BROKEN)
def test_broken_chunked_framing_is_a_400_never_a_500(framing, server):
    key = make_key(label="node-service")

    status, text = post_raw(server, key, BROKEN[framing])

    assert status == 400, text
    if text.startswith("{"):
        # Our answer (gunicorn, granian), not the server's own.
        assert json.loads(text)["detail"]
