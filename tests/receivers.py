"""Real HTTP receivers on 127.0.0.1 for the alert channels' tests."""

import http.server
import threading
import time


class Receiver:
    """
    An HTTP server on a free loopback port that keeps what it is sent.

    ``status`` is what it answers; ``delay`` seconds it waits first;
    ``location`` makes it a redirect.
    """

    def __init__(self, status=200, delay=0.0, location=None):
        self.status = status
        self.delay = delay
        self.location = location
        self.requests = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                receiver.arrived.set()
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path="/hook/T0KEN"):
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
