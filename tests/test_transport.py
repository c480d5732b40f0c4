"""The remote client's sending: bounded in time, whatever the server does."""

import socket
import threading
import time

import pytest

from sentry.client.transport import post


@pytest.fixture
def trickling_server():
    """A server that answers a byte of headers every 0.1 s, for ever."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def trickle(connection):
        try:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.is_set():
                connection.sendall(b"X")
                time.sleep(0.1)
        except OSError:
            pass
        finally:
            connection.close()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=trickle, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/sentry/store/"
    stop.set()
    thread.join(5)
    listener.close()


def test_a_server_that_answers_a_byte_at_a_time_is_cut_off(trickling_server):
    raised = []

    def send():
        try:
            post(trickling_server, b"body", "key", timeout=0.5)
        except Exception as exc:
            raised.append(exc)

    # In a thread: without the bound, the sending would never end.
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sender.join(3)

    assert not sender.is_alive(), "still sending after 3 s"
    assert isinstance(raised[0], TimeoutError)
