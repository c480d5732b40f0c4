"""
Chunked request bodies, as ``@sentry/node`` sends every envelope.

The Node transport streams the body with ``Transfer-Encoding: chunked``, no
``Content-Length`` and no ``Content-Type`` (gzip past 32 KiB). Each test
sends exactly that, over a raw socket, to a real server on 127.0.0.1 serving
:mod:`benchmarks.server` on the test database: gunicorn and uvicorn hand the
body over (so do granian, and uWSGI with ``--http-chunked-input``), while
``runserver`` and uWSGI without that option cannot, and the answer says so
(411).
"""

import gzip
import http.client
import json
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from sentry.digest import drain
from sentry.models import Message
from tests.ingest_factories import event_envelope, make_key, message_event
from tests.processes import (
    ROOT,
    Process,
    free_port,
    listening,
    server_env,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ENVELOPE_LIMIT = 20 * 1024 * 1024  # INGEST_MAX_ENVELOPE_SIZE's default


def start(args, port):
    """Start a server process on ``port``; return it once it accepts."""
    # The server imports what the tests import (granian may be on the path).
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return listening(Process(args, server_env(PYTHONPATH=path)), port)


def gunicorn(port):
    return [
        *(sys.executable, "-m", "gunicorn", "benchmarks.server.wsgi:application"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--log-level", "warning"),
    ]


def uvicorn(port):
    return [
        *(sys.executable, "-m", "uvicorn", "django.core.asgi:get_asgi_application"),
        *("--factory", "--host", "127.0.0.1", "--port", str(port)),
        *("--log-level", "warning"),
    ]


def granian(interface):
    def command(port):
        target = {
            "wsgi": "benchmarks.server.wsgi:application",
            "asgi": "django.core.asgi:get_asgi_application",
        }[interface]
        return [
            *(sys.executable, "-m", "granian", "--interface", interface, target),
            *(["--factory"] if interface == "asgi" else []),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
            *("--log-level", "warning"),
        ]

    return command


def runserver(port):
    return [
        *(sys.executable, "-m", "django", "runserver", "--noreload"),
        f"127.0.0.1:{port}",
    ]


UWSGI = shutil.which("uwsgi", path=Path(sys.executable).parent) or "uwsgi"


def uwsgi(*options):
    def command(port):
        return [
            *(UWSGI, "--http", f"127.0.0.1:{port}", *options),
            *("--virtualenv", sys.prefix, "--pythonpath", str(ROOT)),
            *("--module", "benchmarks.server.wsgi:application"),
            *("--master", "--processes", "1", "--disable-logging"),
        ]

    return command


#: Servers that decode a chunked body and hand it over whole. Each is in the
#: ``test`` extra: a missing one fails the run rather than skip it.
DECODING_SERVERS = {
    "gunicorn": gunicorn,
    "uvicorn": uvicorn,
    "granian-wsgi": granian("wsgi"),
    "granian-asgi": granian("asgi"),
    "uwsgi-chunked-input": uwsgi("--http-chunked-input"),
}

#: Servers that cannot: the body never reaches the view.
OTHER_SERVERS = {
    "runserver": runserver,
    "uwsgi": uwsgi(),
}


@pytest.fixture(params=list(DECODING_SERVERS.values()), ids=list(DECODING_SERVERS))
def decoding_server(request):
    port = free_port()
    process = start(request.param(port), port)
    yield port
    process.close()


@pytest.fixture(params=list(OTHER_SERVERS.values()), ids=list(OTHER_SERVERS))
def other_server(request):
    port = free_port()
    process = start(request.param(port), port)
    yield port
    process.close()


@pytest.fixture
def key():
    return make_key(label="node-service")


def send_chunked(port, key, chunks, encoding=None):
    """
    POST ``chunks`` as @sentry/node does; return (status, JSON answer).

    Chunked framing, no ``Content-Length``, no ``Content-Type``, the key in
    the query string. A server may answer (413) before the body is all sent:
    the answer is read whatever happened to the sending.
    """
    path = (
        f"/sentry/api/{key.project_id}/envelope/"
        f"?sentry_key={key.public_key}&sentry_version=7&sentry_client=sentry.javascript.node%2F10.0.0"
    )
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Transfer-Encoding: chunked",
        "Connection: close",
        "User-Agent: node",
    ]
    if encoding:
        head.append(f"Content-Encoding: {encoding}")
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        try:
            sock.sendall("\r\n".join(head).encode() + b"\r\n\r\n")
            for chunk in chunks:
                if chunk:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # Answered early: read the answer.
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())
    finally:
        sock.close()


def pieces(data, size):
    return [data[start : start + size] for start in range(0, len(data), size)]


def stored(event_id):
    """Drain the queue here until the event is stored (or give up)."""

    def is_stored():
        drain(steal=True)
        return Message.objects.filter(message_id=event_id).exists()

    return wait_for(is_stored, timeout=20, interval=0.2)


def small_envelope():
    event = message_event("checkout failed in node")
    return event["event_id"], event_envelope(event)


def large_envelope():
    """An envelope whose gzip is well over 32 KiB, as Node then gzips."""
    event = message_event(
        "report failed in node",
        extra={"blob": os.urandom(40 * 1024).hex()},
    )
    body = gzip.compress(event_envelope(event))
    assert len(body) > 32 * 1024
    return event["event_id"], body


def test_a_small_chunked_envelope_is_stored(decoding_server, key):
    event_id, body = small_envelope()

    status, answer = send_chunked(decoding_server, key, pieces(body, 50))

    assert (status, answer) == (200, {"id": event_id})
    assert stored(event_id)


def test_a_gzipped_chunked_envelope_over_32_kib_is_stored(decoding_server, key):
    event_id, body = large_envelope()

    status, answer = send_chunked(
        decoding_server, key, pieces(body, 16 * 1024), encoding="gzip"
    )

    assert (status, answer) == (200, {"id": event_id})
    assert stored(event_id)


def test_a_chunked_body_over_the_envelope_limit_is_413(decoding_server, key):
    _, body = small_envelope()
    filler = b" " * (64 * 1024)
    chunks = [body, *[filler] * (ENVELOPE_LIMIT // len(filler)), b"x"]

    status, answer = send_chunked(decoding_server, key, chunks)

    assert status == 413
    assert answer["detail"] == f"request body over {ENVELOPE_LIMIT} bytes"


def test_a_chunked_body_to_a_server_that_cannot_decode_it_is_411_and_says_why(
    other_server, key
):
    event_id, body = small_envelope()

    status, answer = send_chunked(other_server, key, pieces(body, 50))

    assert status == 411
    assert answer["detail"].startswith(
        "chunked request body, but this server does not decode chunked bodies"
    )
    assert "Content-Length" in answer["detail"]
    drain(steal=True)
    assert not Message.objects.filter(message_id=event_id).exists()


def test_a_wrong_key_is_refused_before_the_chunked_body(other_server, key):
    _, body = small_envelope()
    key.public_key = "0" * 32

    status, answer = send_chunked(other_server, key, [body])

    assert status == 403, answer
    assert answer["detail"] == "invalid, inactive or foreign key for this project"
