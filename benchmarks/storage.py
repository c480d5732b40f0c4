"""
Storage: bytes on disk per stored event, table by table.

    python -m benchmarks.storage                  # 10,000 events, SQLite
    python -m benchmarks.storage --db postgresql
    python -m benchmarks.storage --quick          # 1,000 events (CI)

The events are the HTTP benchmark's (about 5.5 KB envelopes over 50
distinct errors, :mod:`benchmarks.events`), queued and digested as the
ingest endpoints do, with the flood guard off so that every event gets its
``Message`` row. Sizes are the pages each table and index takes (SQLite's
``dbstat``, PostgreSQL's ``pg_total_relation_size``), the emptied queue
left out. On SQLite the whole file is measured too -- what the site's disk
holds: every page, the free pages the emptied queue left behind and the
write-ahead log -- which on a small, fresh database is a good part of it:

    python -m benchmarks.storage --events 3000    # a fresh database
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sizes(vendor):
    """Return ``[(table or index, bytes)]`` of the app's tables but the queue."""
    from django.db import connection

    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
            cursor.execute(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                "WHERE relkind = 'r' AND relname LIKE 'sentry_%%' "
                "AND relname <> 'sentry_queuedevent' ORDER BY 2 DESC"
            )
        else:
            cursor.execute(
                "SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE '%sentry%' "
                "AND name NOT LIKE '%queue%' GROUP BY name ORDER BY 2 DESC"
            )
        return cursor.fetchall()


def file_size():
    """Return ``(file bytes, free bytes, log bytes)`` of the SQLite database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA page_size")
        page_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute("PRAGMA freelist_count")
        free = cursor.fetchone()[0]
    name = connection.settings_dict["NAME"]
    log = os.path.getsize(f"{name}-wal") if os.path.exists(f"{name}-wal") else 0
    return pages * page_size, free * page_size, log


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count = 1000 if args.quick else args.events

    from benchmarks.ingest_http import Database

    with tempfile.TemporaryDirectory() as folder:
        database = Database(args.db, folder)
        database.create()
        try:
            from django.db import connection
            from django.test import override_settings

            from benchmarks.events import EventFactory
            from sentry import queue
            from sentry.digest import drain
            from sentry.models import Message

            factory = EventFactory()
            payload_bytes = 0
            started = time.perf_counter()
            with override_settings(SENTRY_THRASHING_LIMIT=0, SENTRY_DIGEST="worker"):
                for start in range(0, count, 500):
                    entries = []
                    for n in range(start, min(start + 500, count)):
                        payload = json.dumps(factory.payload(n)).encode()
                        payload_bytes += len(payload)
                        entries.append(
                            queue.Entry(
                                factory.payload(n)["event_id"],
                                queue.KIND_EVENT,
                                payload,
                                site="bench",
                            )
                        )
                    queue.enqueue("default", entries)
                    drain()
            elapsed = time.perf_counter() - started
            stored = Message.objects.count()
            rows = sizes(connection.vendor)
            whole = file_size() if connection.vendor == "sqlite" else None
        finally:
            database.drop()

    total = sum(size for _, size in rows)
    print(f"storage: {args.db}, {stored} events over 50 errors")
    print(f"{'table or index':<48} {'bytes/event':>12}")
    for name, size in rows[:12]:
        print(f"{name:<48} {size / stored:>12.0f}")
    print(f"{'all of the above and the rest':<48} {total / stored:>12.0f}")
    if whole is not None:
        file_bytes, free_bytes, log_bytes = whole
        print(f"{'the whole file, per event':<48} {file_bytes / stored:>12.0f}")
        print(f"{'  of which free pages':<48} {free_bytes / stored:>12.0f}")
        print(f"{'write-ahead log left, per event':<48} {log_bytes / stored:>12.0f}")
    print(f"{'event payload as sent (JSON)':<48} {payload_bytes / count:>12.0f}")
    print(f"digest in this process: {count / elapsed:.0f} events/s (one core)")


if __name__ == "__main__":
    os.environ.setdefault("SENTRY_SERVER_DIGEST", "worker")
    main()
