"""
Send request bodies to the central servers, off the caller's thread.

A bounded queue and one daemon thread per process: the caller only pays for
putting the event in the queue. Whatever cannot be delivered -- queue full,
server down, slow or refusing, interpreter exiting -- is written with the
whole event to the ``sentry.errors`` logger, never raised.
"""

import atexit
import http.client
import logging
import os
import queue
import socket
import threading
import time
import urllib.error
import urllib.request

from .. import __version__
from ..conf import settings
from ..utils import wire
from ..utils.process import PerProcess

error_logger = logging.getLogger("sentry.errors")

USER_AGENT = f"django-sentry/{__version__}"


def remote_urls():
    """Return ``SENTRY_REMOTE_URL`` as a list."""
    urls = settings.REMOTE_URL
    if not urls:
        return []
    if isinstance(urls, str):
        return [urls]
    return [url for url in urls if url]


def describe(event):
    from .base import describe_event

    return describe_event(event)


class Watch:
    """
    The connections one request opens, to cut them when its time is up.

    ``urlopen``'s timeout bounds each socket operation, not the exchange: a
    server that answers a byte at a time would hold the sending thread (and
    every event queued behind) for ever.
    """

    def __init__(self):
        self.connections = []
        self.was_cut = False

    def connection_class(self, base):
        watch = self

        class Connection(base):
            def connect(self):
                super().connect()
                watch.connections.append(self)

        return Connection

    def cut(self):
        """Shut the connections down: a blocked read or write fails at once."""
        self.was_cut = True
        for connection in self.connections:
            try:
                if connection.sock is not None:
                    connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class WatchedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watch):
        super().__init__()
        self.watch = watch

    def http_open(self, req):
        connection = self.watch.connection_class(http.client.HTTPConnection)
        return self.do_open(connection, req)


class WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watch):
        super().__init__()
        self.watch = watch

    def https_open(self, req):
        connection = self.watch.connection_class(http.client.HTTPSConnection)
        return self.do_open(connection, req, context=self._context)


def post(url, body, key, timeout):
    """
    Send one signed body to ``url``; raise on anything but a 2xx answer.

    ``timeout`` bounds connecting, and then the whole exchange.
    """
    timestamp = int(time.time())
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": wire.CONTENT_TYPE,
            "Content-Encoding": wire.CONTENT_ENCODING,
            "User-Agent": USER_AGENT,
            wire.TIMESTAMP_HEADER: str(timestamp),
            wire.SIGNATURE_HEADER: wire.sign(key, timestamp, body),
        },
    )
    watch = Watch()
    opener = urllib.request.build_opener(
        WatchedHTTPHandler(watch), WatchedHTTPSHandler(watch)
    )
    timer = threading.Timer(float(timeout), watch.cut)
    timer.daemon = True
    try:
        timer.start()
    except RuntimeError:
        # No new thread while the interpreter exits (the last flush): each
        # socket operation is still bounded, and the flush by its own timeout.
        pass
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read(65536)
    except Exception as exc:
        if watch.was_cut:
            raise TimeoutError(f"no complete answer within {timeout} s") from exc
        raise
    finally:
        timer.cancel()
    if watch.was_cut:
        # A cut exchange may still parse as an answer: it is none.
        raise TimeoutError(f"no complete answer within {timeout} s")


class Transport:
    """A queue of bodies and the thread that sends them."""

    def __init__(self, maxsize=None):
        self.maxsize = maxsize if maxsize is not None else settings.REMOTE_QUEUE_SIZE
        self.queue = queue.Queue(maxsize=max(int(self.maxsize), 1))
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.thread = None
        self.closed = False

    def enqueue(self, body, event):
        """Queue ``body`` for sending; return whether it was accepted."""
        self._ensure_thread()
        try:
            self.queue.put_nowait((body, event))
        except queue.Full:
            self.fail(event, "the send queue is full (SENTRY_REMOTE_QUEUE_SIZE)")
            return False
        return True

    def _ensure_thread(self):
        if self.thread is not None and self.thread.is_alive():
            return
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._run, name="sentry-remote", daemon=True
                )
                self.thread.start()

    def _run(self):
        while True:
            body, event = self.queue.get()
            try:
                if body is None:
                    return
                self.send(body, event)
            except Exception:
                pass
            finally:
                self.queue.task_done()

    def send(self, body, event):
        """Deliver one body to every remote URL, reporting each failure."""
        key = settings.KEY
        urls = remote_urls()
        if not urls or not key:
            self.fail(event, "SENTRY_REMOTE_URL or SENTRY_KEY is not set")
            return
        for url in urls:
            try:
                post(url, body, key, settings.REMOTE_TIMEOUT)
            except urllib.error.HTTPError as exc:
                detail = exc.headers.get("X-Sentry-Error") or exc.reason
                self.fail(event, f"{url} answered {exc.code}: {detail}")
            except Exception as exc:
                self.fail(event, f"{url} could not be reached: {exc!r}")

    def fail(self, event, reason):
        """Write an undelivered event, in full, to ``sentry.errors``."""
        try:
            error_logger.error(
                "Unable to send an error to the Sentry server (%s): %s",
                reason,
                describe(event),
                extra={"event": event},
            )
        except Exception:
            pass

    def flush(self, timeout=None):
        """Wait until the queue is empty, at most ``timeout`` seconds."""
        if timeout is None:
            timeout = settings.REMOTE_FLUSH_TIMEOUT
        deadline = time.monotonic() + float(timeout)
        if self.thread is None or not self.thread.is_alive():
            return self.queue.unfinished_tasks == 0
        while self.queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.queue.unfinished_tasks == 0

    def close(self, timeout=None):
        """Flush, then report what is still waiting as lost (interpreter exit)."""
        if self.closed or self.pid != os.getpid():
            # A forked child inherits this exit hook, not the parent's queue.
            return
        self.closed = True
        try:
            self.flush(timeout)
        except Exception:
            pass
        while True:
            try:
                body, event = self.queue.get_nowait()
            except queue.Empty:
                break
            if body is not None:
                self.fail(event, "the process exited before it could be sent")
            self.queue.task_done()


_transport = PerProcess(
    Transport, on_create=lambda transport: atexit.register(transport.close)
)


def get_transport():
    """Return this process's transport (a new one after a fork)."""
    return _transport.get()
