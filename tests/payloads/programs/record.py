"""
Record what an SDK posts: ``python record.py PORT FOLDER``.

A bare HTTP server on 127.0.0.1:PORT that answers every post with a 200 and
writes each event it carries (a store body, or an envelope's ``event``
items) to FOLDER as ``001.json``, ``002.json``... Point an SDK's DSN at
``http://key@127.0.0.1:PORT/sentry/1``. Takes chunked bodies (@sentry/node),
gzip, deflate and brotli (sentry-python), and answers CORS preflights
(@sentry/browser). Only for re-recording the payloads of ``tests/payloads``:
it checks nothing.
"""

import gzip
import http.server
import itertools
import json
import sys
import threading
import zlib
from pathlib import Path


def envelope_events(body):
    """Yield the payloads of an envelope's ``event`` items."""
    rest = body.split(b"\n", 1)[1] if b"\n" in body else b""
    while rest.strip():
        header, _, rest = rest.partition(b"\n")
        if not header.strip():
            continue
        item = json.loads(header)
        if "length" in item:
            payload, rest = rest[: item["length"]], rest[item["length"] :]
            rest = rest.removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        if item.get("type") == "event":
            yield payload


class Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    folder = Path(".")
    numbers = itertools.count(1)
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def answer(self, body=b""):
        self.send_response(200)
        self.send_header("Access-Control-Allow-Origin", self.headers["Origin"] or "*")
        self.send_header("Access-Control-Allow-Headers", "*")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_OPTIONS(self):
        self.answer()

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b""
        while size := int(self.rfile.readline().split(b";")[0], 16):
            body += self.rfile.read(size)
            self.rfile.readline()
        self.rfile.readline()
        return body

    def do_POST(self):
        body = self.body()
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # sentry-python's choice when it is installed

            body = brotli.decompress(body)
        events = envelope_events(body) if "/envelope" in self.path else [body]
        with self.lock:
            for event in events:
                path = self.folder / f"{next(self.numbers):03d}.json"
                path.write_bytes(event)
        self.answer(b'{"id": null}')


if __name__ == "__main__":
    Recorder.folder = Path(sys.argv[2])
    Recorder.folder.mkdir(parents=True, exist_ok=True)
    address = ("127.0.0.1", int(sys.argv[1]))
    http.server.ThreadingHTTPServer(address, Recorder).serve_forever()
