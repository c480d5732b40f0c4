"""
HTTP ingest: real envelopes posted to the app under gunicorn, on 127.0.0.1.

    python -m benchmarks.ingest_http                 # SQLite, full run
    python -m benchmarks.ingest_http --db postgresql
    python -m benchmarks.ingest_http --quick         # a few seconds (CI)
    python -m benchmarks.ingest_http --queue-db      # the queue in its own file
    python -m benchmarks.ingest_http --rate 200 --hold 30   # a fixed rate

An open-loop load generator (:mod:`benchmarks.loadgen`) posts envelopes of
about 5.5 KB over 50 distinct errors (:mod:`benchmarks.events`, captured by
the real sentry-sdk) from several keep-alive connections. The rate ramps up
step by step until persisted events fall behind accepted ones (or accepting
itself falls behind); then the load holds for ``--hold`` seconds at 90 % of
the last rate that kept up (``--rate`` skips the ramp and holds that
rate). ``--queue-db`` gives the ingest queue a database of its own
(``SENTRY_QUEUE_DATABASE``: a second SQLite file, or a second PostgreSQL
database). Persisted means counted in the database
(``SUM(times_seen)`` of the groups; the flood guard is off, so every event
also gets its ``Message`` row). After the load stops, the time until the
backlog is digested is measured. Everything runs on this machine: the load
generator shares the cores with the server.

Prints a table; the server (gunicorn, ``benchmarks.server``) is stopped at
the end, and by ``timeout`` in any case.
"""

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class Database:
    """The benchmark's database: a fresh SQLite file or PostgreSQL database."""

    def __init__(self, kind, folder, queue_db=False):
        self.kind = kind
        if kind == "postgresql":
            self.name = f"sentry_bench_{os.getpid()}"
            self.url = f"postgresql:{self.name}"
        else:
            self.name = os.path.join(folder, "bench.sqlite3")
            self.url = f"sqlite:{self.name}"
        # The queue's own database (SENTRY_QUEUE_DATABASE), or none.
        self.queue_name = self.queue_url = None
        if queue_db:
            if kind == "postgresql":
                self.queue_name = f"sentry_bench_queue_{os.getpid()}"
                self.queue_url = f"postgresql:{self.queue_name}"
            else:
                self.queue_name = os.path.join(folder, "queue.sqlite3")
                self.queue_url = f"sqlite:{self.queue_name}"

    def names(self):
        return [name for name in (self.name, self.queue_name) if name]

    def env(self):
        """Return the server's environment variables for these databases."""
        env = {"SENTRY_SERVER_DB": self.url}
        if self.queue_url:
            env["SENTRY_SERVER_QUEUE_DB"] = self.queue_url
        return env

    def create(self):
        if self.kind == "postgresql":
            for name in self.names():
                self._admin(f'DROP DATABASE IF EXISTS "{name}"')
                self._admin(f'CREATE DATABASE "{name}"')
        os.environ.update(self.env())
        os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.server.settings"
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        if self.queue_url:
            call_command("migrate", database="queue", verbosity=0)
        from sentry.models import ProjectKey

        key = ProjectKey.objects.create(label="bench", project_id=1)
        from django.db import connections

        connections.close_all()
        return key

    def drop(self):
        if self.kind == "postgresql":
            from django.db import connections

            connections.close_all()
            for name in self.names():
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @staticmethod
    def _admin(sql):
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(sql)

    def persisted(self):
        """Return how many events are counted in the groups."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COALESCE(SUM(times_seen), 0) FROM sentry_groupedmessage"
            )
            return cursor.fetchone()[0]

    def bytes_per_event(self):
        """Return the bytes of the app's tables and indexes, per stored event."""
        from django.db import connection

        from sentry.models import Message

        count = Message.objects.count() or 1
        with connection.cursor() as cursor:
            if self.kind == "postgresql":
                cursor.execute(
                    "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c "
                    "WHERE c.relkind = 'r' AND c.relname LIKE 'sentry_%%' "
                    "AND c.relname <> 'sentry_queuedevent'"
                )
            else:
                cursor.execute(
                    "SELECT SUM(pgsize) FROM dbstat WHERE name NOT LIKE "
                    "'%queuedevent%' AND name NOT LIKE 'sqlite_autoindex_sentry_queue%'"
                )
            return (cursor.fetchone()[0] or 0) / count, count


class Server:
    """gunicorn serving :mod:`benchmarks.server`, and the worker if asked."""

    def __init__(self, args, database, port):
        self.port = port
        self.processes = []
        env = {
            **os.environ,
            **database.env(),
            # "none": accept only, nobody digests (the accept path's own cost).
            "SENTRY_SERVER_DIGEST": "worker" if args.digest == "none" else args.digest,
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "benchmarks.server.settings",
        }
        # Stops by itself, whatever happens to this process.
        limit = ["timeout", "-s", "KILL", str(int(args.max_seconds) + 120)]
        gunicorn = [
            *limit,
            sys.executable,
            "-m",
            "gunicorn",
            "benchmarks.server.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.worker_class,
            "--threads",
            str(args.threads),
            "--backlog",
            "4096",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ]
        self.gunicorn = subprocess.Popen(gunicorn, cwd=ROOT, env=env)
        self.processes.append(self.gunicorn)
        if args.digest == "worker":
            self.processes.append(
                subprocess.Popen(
                    [
                        *limit,
                        sys.executable,
                        "-m",
                        "django",
                        "sentry_worker",
                        "-v",
                        "0",
                    ],
                    cwd=ROOT,
                    env=env,
                )
            )
        wait_for_port(port)

    def pids(self):
        """Return the server's Python processes: gunicorn's workers, the worker."""
        found = []
        for process in self.processes:
            found += descendants(process.pid)
        return found

    def stop(self):
        for process in self.processes:
            try:
                os.kill(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def descendants(pid):
    result = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return result
    for child in map(int, children):
        result.append(child)
        result += descendants(child)
    return result


def peak_rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def python_processes(pids):
    found = []
    for pid in pids:
        try:
            if "python" in Path(f"/proc/{pid}/cmdline").read_bytes().decode():
                found.append(pid)
        except OSError:
            pass
    return found


class Monitor(threading.Thread):
    """Samples ``(time, accepted, persisted)`` twice a second."""

    def __init__(self, database, stats):
        super().__init__(daemon=True)
        self.database, self.stats = database, stats
        self.samples = []
        self.peak = {}
        self.pids = []
        self.running = True

    def run(self):
        while self.running:
            self.samples.append(
                (time.monotonic(), self.stats.accepted, self.database.persisted())
            )
            for pid in self.pids:
                self.peak[pid] = max(self.peak.get(pid, 0.0), peak_rss_mb(pid))
            time.sleep(0.5)

    def at(self, when):
        """Return the sample nearest ``when``."""
        return min(self.samples, key=lambda sample: abs(sample[0] - when))


async def drive(args, generator, monitor, report):
    """Ramp, find the rate that keeps up, hold at 90 % of it, stop."""
    state = {"rate": float(args.rate or args.start), "stop": False}
    task = asyncio.create_task(
        generator.run(lambda elapsed: state["rate"], lambda: state["stop"])
    )
    # Warm up (imports, connections, first groups) before judging anything.
    await asyncio.sleep(args.warmup)
    if args.rate:
        # A fixed rate: no ramp, the hold starts after the warm-up.
        report["steps"] = []
        report["capacity"] = None
        await hold(args, state, task, monitor, report, args.rate)
        return
    kept_up = 0.0
    steps = []
    started = time.monotonic()
    while True:
        rate = state["rate"]
        step_start = time.monotonic()
        await asyncio.sleep(args.step_seconds)
        _, accepted0, persisted0 = monitor.at(step_start)
        now, accepted1, persisted1 = monitor.samples[-1]
        span = max(now - step_start, 0.1)
        backlog0, backlog1 = accepted0 - persisted0, accepted1 - persisted1
        accepted_rate = (accepted1 - accepted0) / span
        persisted_rate = (persisted1 - persisted0) / span
        steps.append((rate, accepted_rate, persisted_rate, backlog1))
        accept_behind = accepted_rate < 0.9 * rate or generator.stats.errors > 0
        digest_behind = (
            args.digest != "none"
            and backlog1 > max(rate * 1.5, 500)
            and backlog1 > backlog0
        )
        if accept_behind or digest_behind:
            break
        kept_up = rate
        if len(steps) >= args.max_steps:
            break
        if time.monotonic() - started > args.max_seconds / 2:
            break
        state["rate"] = rate + args.step
    report["steps"] = steps
    report["capacity"] = kept_up
    # End the ramp and let everything settle -- requests the generator still
    # holds, the server's backlog -- so that the hold starts from nothing.
    state["stop"] = True
    await asyncio.wait_for(task, timeout=120)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and args.digest != "none":
        _, accepted, persisted = monitor.samples[-1]
        if persisted >= accepted:
            break
        await asyncio.sleep(0.5)
    hold_rate = max(kept_up * 0.9, args.start * 0.5)
    state.update(rate=hold_rate, stop=False)
    task = asyncio.create_task(
        generator.run(lambda elapsed: state["rate"], lambda: state["stop"])
    )
    await asyncio.sleep(1.0)
    await hold(args, state, task, monitor, report, hold_rate)


async def hold(args, state, task, monitor, report, hold_rate):
    """Measure ``args.hold`` seconds of the load running at ``hold_rate``."""
    hold_start = time.monotonic()
    sample0 = monitor.samples[-1]
    await asyncio.sleep(args.hold)
    sample1 = monitor.samples[-1]
    hold_end = time.monotonic()
    state["stop"] = True
    await asyncio.wait_for(task, timeout=120)
    report["hold"] = (hold_rate, hold_start, hold_end, sample0, sample1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--digest", choices=("embedded", "worker", "none"), default="embedded"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--start", type=float, default=500)
    parser.add_argument("--step", type=float, default=250)
    parser.add_argument("--step-seconds", type=float, default=6)
    parser.add_argument("--max-steps", type=int, default=30)
    parser.add_argument("--hold", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument(
        "--rate", type=float, default=None, help="hold this rate, without a ramp"
    )
    parser.add_argument(
        "--queue-db",
        action="store_true",
        help="the queue in a database of its own (SENTRY_QUEUE_DATABASE)",
    )
    parser.add_argument("--quick", action="store_true", help="a few seconds (CI)")
    args = parser.parse_args()
    if args.quick:
        args.start, args.step, args.step_seconds = 100, 100, 1
        args.max_steps, args.hold, args.max_seconds, args.warmup = 2, 2, 60, 1

    with tempfile.TemporaryDirectory() as folder:
        database = Database(args.db, folder, queue_db=args.queue_db)
        key = database.create()
        from benchmarks.events import EventFactory
        from benchmarks.loadgen import LoadGenerator, Templates

        templates = Templates(EventFactory(), variants=200 if args.quick else 1000)
        port = free_port()
        server = Server(args, database, port)
        try:
            auth = f"Sentry sentry_key={key.public_key}, sentry_version=7"
            generator = LoadGenerator(
                "127.0.0.1", port, auth, templates, connections=args.connections
            )
            monitor = Monitor(database, generator.stats)
            monitor.pids = python_processes(server.pids())
            monitor.start()
            report = {}
            asyncio.run(drive(args, generator, monitor, report))
            stopped = time.monotonic()
            total = generator.stats.accepted
            while (
                args.digest != "none"
                and database.persisted() < total
                and time.monotonic() - stopped < 300
            ):
                time.sleep(0.2)
            drain_time = time.monotonic() - stopped
            monitor.running = False
            monitor.join()
            size, stored = database.bytes_per_event()
            persisted = database.persisted()
        finally:
            server.stop()
            database.drop()

    print_report(args, generator.stats, report, drain_time, persisted, size, monitor)
    if args.digest != "none" and persisted != generator.stats.accepted:
        sys.exit(
            f"persisted {persisted} events, "
            f"but {generator.stats.accepted} were accepted"
        )


def print_report(args, stats, report, drain_time, persisted, size, monitor):
    hold_rate, hold_start, hold_end, sample0, sample1 = report["hold"]
    span = sample1[0] - sample0[0] or 1
    latencies = sorted(
        latency for scheduled, latency in stats.latencies if hold_start <= scheduled
    )
    latencies = latencies or [0.0]

    def pct(q):
        return latencies[min(int(len(latencies) * q), len(latencies) - 1)] * 1000

    print(
        f"ingest over HTTP: {args.db}"
        f"{' + queue database' if args.queue_db else ''},"
        f" gunicorn {args.workers} x {args.worker_class}"
        f" ({args.threads} threads), digest {args.digest}, {os.cpu_count()} cores"
    )
    print(f"{'ramp rate/s':>12} {'accepted/s':>11} {'persisted/s':>12} {'backlog':>8}")
    for rate, accepted, persisted_rate, backlog in report["steps"]:
        print(f"{rate:>12.0f} {accepted:>11.0f} {persisted_rate:>12.0f} {backlog:>8}")
    rows = [
        (
            "highest rate that kept up (events/s)",
            "--" if report["capacity"] is None else f"{report['capacity']:.0f}",
        ),
        (
            "held at (events/s, 90 %)"
            if report["capacity"] is not None
            else "held at (events/s, fixed)",
            f"{hold_rate:.0f}",
        ),
        ("hold duration (s)", f"{span:.0f}"),
        ("accepted/s during the hold", f"{(sample1[1] - sample0[1]) / span:.0f}"),
        ("persisted/s during the hold", f"{(sample1[2] - sample0[2]) / span:.0f}"),
        (
            "backlog at hold start / end",
            f"{sample0[1] - sample0[2]} / {sample1[1] - sample1[2]}",
        ),
        ("accept latency p50 (ms)", f"{pct(0.50):.1f}"),
        ("accept latency p99 (ms)", f"{pct(0.99):.1f}"),
        ("accepted in all", f"{stats.accepted}"),
        ("persisted in all", f"{persisted}"),
        ("rejected (non-200) / errors", f"{stats.rejected} / {stats.errors}"),
        ("backlog drain time after the load (s)", f"{drain_time:.1f}"),
        (
            "peak RSS per server process (MB)",
            " ".join(f"{mb:.0f}" for mb in sorted(monitor.peak.values())) or "?",
        ),
        ("stored bytes per event", f"{size:.0f}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>14}")
    if stats.statuses:
        print("statuses:", stats.statuses)


if __name__ == "__main__":
    main()
