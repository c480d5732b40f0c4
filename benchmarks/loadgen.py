"""
An open-loop HTTP load generator for the ingest endpoint.

Requests are *scheduled* at the target rate whatever the server does, and
each one's latency runs from its scheduled time: when the server falls
behind, waiting requests show up as latency (no coordinated omission). A
fixed pool of keep-alive connections sends them; a connection the server
closes is opened again.
"""

import asyncio
import time
import uuid

ENVELOPE_PATH = "/sentry/api/{project_id}/envelope/"


class Templates:
    """Envelope bodies with two slots for a fresh event id."""

    def __init__(self, factory, variants=1000):
        self.parts = []
        marker = "f" * 32
        for n in range(variants):
            body = factory.envelope(n, event_id=marker)
            self.parts.append(body.split(marker.encode()))

    def body(self, n):
        parts = self.parts[n % len(self.parts)]
        event_id = uuid.uuid4().hex.encode()
        return event_id.join(parts)


class Stats:
    """What the load did, second by second."""

    def __init__(self):
        self.sent = 0
        self.accepted = 0
        self.rejected = 0
        self.errors = 0
        self.latencies = []  # (scheduled time, latency) of accepted requests
        self.statuses = {}


class LoadGenerator:
    def __init__(self, host, port, auth, templates, connections=8, project_id=1):
        self.host, self.port = host, port
        self.head = (
            f"POST {ENVELOPE_PATH.format(project_id=project_id)} HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            "Content-Type: application/x-sentry-envelope\r\n"
            f"X-Sentry-Auth: {auth}\r\n"
            "Content-Length: {length}\r\n\r\n"
        )
        self.templates = templates
        self.connections = connections
        self.stats = Stats()
        self.rate = 0.0
        self.stopping = False

    def request(self, n):
        body = self.templates.body(n)
        return self.head.format(length=len(body)).encode() + body

    async def _connect(self):
        return await asyncio.open_connection(self.host, self.port)

    async def _worker(self, queue):
        reader = writer = None
        while True:
            item = await queue.get()
            if item is None:
                break
            scheduled, data = item
            for attempt in range(2):
                try:
                    if writer is None:
                        reader, writer = await self._connect()
                    writer.write(data)
                    status, keep = await self._response(reader)
                    break
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    status, keep = None, False
                    if attempt:
                        break
            done = time.monotonic()
            stats = self.stats
            if status == 200:
                stats.accepted += 1
                stats.latencies.append((scheduled, done - scheduled))
            elif status is None:
                stats.errors += 1
            else:
                stats.rejected += 1
                stats.statuses[status] = stats.statuses.get(status, 0) + 1
            if not keep and writer is not None:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    @staticmethod
    async def _response(reader):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        chunked = False
        keep = lines[0].startswith("HTTP/1.1")
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif name == "connection":
                keep = value.strip().lower() == "keep-alive"
        if chunked:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await reader.readexactly(size + 2)
                if not size:
                    break
        elif length:
            await reader.readexactly(length)
        return status, keep

    async def run(self, rate_at, stop):
        """Send at ``rate_at(elapsed)`` requests per second until ``stop()``."""
        queue = asyncio.Queue()
        workers = [
            asyncio.create_task(self._worker(queue)) for _ in range(self.connections)
        ]
        start = time.monotonic()
        scheduled = start
        n = 0
        while not stop():
            now = time.monotonic()
            # Everything due by now goes out now (open loop).
            while scheduled <= now:
                self.rate = rate_at(scheduled - start)
                queue.put_nowait((scheduled, self.request(n)))
                self.stats.sent += 1
                n += 1
                scheduled += 1.0 / max(self.rate, 1.0)
            await asyncio.sleep(max(0.0, min(scheduled - time.monotonic(), 0.01)))
        for _ in workers:
            queue.put_nowait(None)
        # What is still waiting is sent; bounded by the caller's timeout.
        await asyncio.gather(*workers)
