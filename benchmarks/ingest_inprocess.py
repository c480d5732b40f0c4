"""
Envelope ingest through Django's test client: no HTTP server, no network.

    python -m benchmarks.ingest_inprocess [EVENTS]

Measures the cost of the envelope view and the pipeline alone (auth, gzip,
envelope parsing, queuing, then -- the test settings digest "inline" -- a
digest of each event as it arrives: mapping, shaping, scrubbing, grouping,
storing) on a fresh SQLite file: about 4 KB events over 50 distinct errors.
Not the HTTP benchmark of design.md (which needs a real server and load
generator); a lower bound on what one process can do.
"""

import gzip
import json
import os
import statistics
import sys
import tempfile
import time
import uuid


def setup(db_path):
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["SENTRY_TEST_DB_NAME"] = db_path
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def event(n):
    kind = n % 50
    frames = [
        {
            "filename": f"app/module{kind}.py",
            "abs_path": f"/srv/app/module{kind}.py",
            "function": f"function{depth}",
            "module": f"app.module{kind}",
            "lineno": 10 + depth,
            "pre_context": ["    line before"] * 5,
            "context_line": f"    call_{depth}(value)",
            "post_context": ["    line after"] * 5,
            "vars": {"value": f"'{n}'", "items": ["1", "2", "3"]},
            "in_app": True,
        }
        for depth in range(8)
    ]
    return {
        "event_id": uuid.uuid4().hex,
        "level": "error",
        "platform": "python",
        "server_name": f"web-{n % 3}",
        "exception": {
            "values": [
                {
                    "type": f"Error{kind}",
                    "value": f"failed {n}",
                    "stacktrace": {"frames": frames},
                }
            ]
        },
        "tags": {"tenant": "acme"},
        "request": {"url": f"https://shop.example.com/orders/{n}/", "method": "GET"},
    }


def main(count):
    from django.db import connection
    from django.test import Client, override_settings

    from sentry.models import GroupedMessage, Message, ProjectKey

    key = ProjectKey.objects.create(label="bench", project_id=1)
    client = Client()
    bodies = []
    for n in range(count):
        payload = json.dumps(event(n)).encode()
        body = b"{}\n" + json.dumps({"type": "event", "length": len(payload)}).encode()
        bodies.append(gzip.compress(body + b"\n" + payload))
    sizes = [len(gzip.decompress(b)) for b in bodies]
    auth = f"Sentry sentry_key={key.public_key}, sentry_version=7"
    latencies = []
    with override_settings(SENTRY_THRASHING_LIMIT=0):
        started = time.perf_counter()
        for body in bodies:
            t0 = time.perf_counter()
            response = client.post(
                "/sentry/api/1/envelope/",
                body,
                content_type="application/x-sentry-envelope",
                HTTP_CONTENT_ENCODING="gzip",
                HTTP_X_SENTRY_AUTH=auth,
            )
            latencies.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.content
        elapsed = time.perf_counter() - started
    db_size = os.path.getsize(connection.settings_dict["NAME"])
    latencies.sort()
    rows = [
        ("events", f"{count}"),
        ("mean event size (bytes)", f"{statistics.mean(sizes):.0f}"),
        ("events/s (one process)", f"{count / elapsed:.0f}"),
        ("latency p50 (ms)", f"{latencies[len(latencies) // 2] * 1000:.2f}"),
        ("latency p99 (ms)", f"{latencies[int(len(latencies) * 0.99)] * 1000:.2f}"),
        ("groups", f"{GroupedMessage.objects.count()}"),
        ("occurrences", f"{Message.objects.count()}"),
        ("database file / event (bytes)", f"{db_size / count:.0f}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>10}")


if __name__ == "__main__":
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as folder:
        setup(os.path.join(folder, "bench.sqlite3"))
        main(total)
