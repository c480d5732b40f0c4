"""
The accept path against the machine's floor, side by side in one run.

    python -m benchmarks.ingest_floor                  # SQLite, gunicorn and granian
    python -m benchmarks.ingest_floor --db postgresql
    python -m benchmarks.ingest_floor --quick          # seconds (the test suite)
    python -m benchmarks.ingest_floor --in-process-only --profile   # where it goes
    python -m benchmarks.ingest_floor --in-process-only --calls 100 --instructions
    python -m benchmarks.ingest_floor --queue-db       # the queue in its own file
    python -m benchmarks.ingest_floor --site-middleware  # startproject's stack

The **floor** is :mod:`benchmarks.floor_app`, a bare WSGI callable that
checks the key, parses the same envelope and inserts the event into one
table of the same kind of database. The **app** is the envelope endpoint of
:mod:`benchmarks.server` (one SQLite file or PostgreSQL database, the flood
guard off), with ``sentry_worker`` digesting (``--digest``).

Three measures, each of the floor and the app in the same run:

1. **In process**: each WSGI callable called directly, no server, no
   network, on ``--calls`` envelopes; the CPU time per request. The least
   noisy measure of the accept path (it shares no core with anything).
2. **Under a server** (gunicorn 2 sync workers, and granian 2 workers when
   installed): ``wrk`` posts unique ~5.5 KB envelopes
   (:mod:`benchmarks.events`) from 4 connections as fast as they are
   answered, for ``--seconds``; events persisted per second (the floor's
   rows; the app's ``SUM(times_seen)``), and the CPU time of the server's
   processes per request.
3. **Latency**: the app again under each server, posted at 80 % of the rate
   it persisted, open loop (:mod:`benchmarks.loadgen`: latency counts from
   when a request was due); the accept p50 and p99.

Everything binds 127.0.0.1 and every process is started under ``timeout``.
The load generator shares the cores with the servers: absolute rates move
with the machine's load, the ratios of the same run much less.
"""

import argparse
import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_http import (  # noqa: E402
    Database,
    descendants,
    free_port,
    wait_for_port,
)

FLOOR = "benchmarks.floor_app:application"
APP = "benchmarks.server.wsgi:application"
WRK_SCRIPT = ROOT / "benchmarks" / "wrk_envelopes.lua"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """Return the CPU time (user + system) the processes ``pids`` have used."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def server_command(server, target, port, limit):
    if server == "gunicorn":
        return [
            *limit,
            *(sys.executable, "-m", "gunicorn", target),
            *("--bind", f"127.0.0.1:{port}", "--workers", "2"),
            *("--worker-class", "sync", "--backlog", "4096"),
            *("--log-level", "warning"),
        ]
    return [
        *limit,
        *(sys.executable, "-m", "granian", "--interface", "wsgi"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "2"),
        *("--no-access-log", "--log-level", "warning", target),
    ]


class Floor:
    """The bare callable's database: a table of its own."""

    name = "floor"
    target = FLOOR

    def __init__(self, kind, folder, public_key):
        self.kind = kind
        if kind == "postgresql":
            self.db_name = f"sentry_floor_{os.getpid()}"
            self.url = f"postgresql:{self.db_name}"
        else:
            self.url = f"sqlite:{os.path.join(folder, 'floor.sqlite3')}"
        self.env = {"FLOOR_DB": self.url, "FLOOR_KEY": public_key}

    def create(self):
        from benchmarks import floor_app

        if self.kind == "postgresql":
            Database._admin(f'DROP DATABASE IF EXISTS "{self.db_name}"')
            Database._admin(f'CREATE DATABASE "{self.db_name}"')
        _, connection = floor_app.connect(self.url)
        connection.execute(floor_app.SCHEMA[self.kind])
        connection.close()

    def drop(self):
        if self.kind == "postgresql":
            Database._admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def persisted(self):
        from benchmarks import floor_app

        _, connection = floor_app.connect(self.url)
        try:
            return connection.execute("SELECT COUNT(*) FROM floor_event").fetchone()[0]
        finally:
            connection.close()


class App:
    """The app's database (:class:`benchmarks.ingest_http.Database`)."""

    name = "app"
    target = APP

    def __init__(self, database, digest):
        self.database = database
        self.digest = digest
        self.env = {
            **database.env(),
            "SENTRY_SERVER_DIGEST": "worker" if digest == "none" else digest,
            "DJANGO_SETTINGS_MODULE": "benchmarks.server.settings",
        }

    def persisted(self):
        return self.database.persisted()

    def wait_for_digest(self, timeout=120):
        """Wait until the digest has started, and has caught up (bounded)."""
        from sentry.models import QueuedEvent

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.digest != "none":
            if self.persisted() and not QueuedEvent.objects.exists():
                return
            time.sleep(0.2)


class Running:
    """A server (and the app's digest worker) for one measure; stopped on exit."""

    def __init__(self, args, server, target):
        self.port = free_port()
        env = {**os.environ, **target.env, "PYTHONPATH": str(ROOT)}
        limit = ["timeout", "-s", "KILL", str(int(args.max_seconds))]
        self.server = subprocess.Popen(
            server_command(server, target.target, self.port, limit), cwd=ROOT, env=env
        )
        self.worker = None
        if getattr(target, "digest", None) == "worker":
            self.worker = subprocess.Popen(
                [*limit, sys.executable, "-m", "django", "sentry_worker", "-v", "0"],
                cwd=ROOT,
                env=env,
            )

    def __enter__(self):
        try:
            wait_for_port(self.port)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for process in (self.server, self.worker):
            if process is None:
                continue
            process.terminate()  # timeout passes SIGTERM on to its child
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def server_pids(self):
        return descendants(self.server.pid)

    def worker_pids(self):
        return descendants(self.worker.pid) if self.worker else []


def run_wrk(args, port, templates_file, auth, seconds):
    """Post envelopes for ``seconds``; return ``(requests, failed, p99 ms)``."""
    result = subprocess.run(
        [
            *("timeout", "-s", "KILL", str(int(seconds) + 30)),
            *(
                "wrk",
                "-t",
                "2",
                "-c",
                str(args.connections),
                "-d",
                f"{max(round(seconds), 1)}s",
            ),
            *("-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}/sentry/api/1/envelope/"),
            *("--", str(templates_file), secrets.token_hex(4), auth),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("WRK "))
    requests, _, status_errors, socket_errors, p99 = map(int, line.split()[1:])
    return requests, status_errors + socket_errors, p99 / 1000


def measure_throughput(args, server, target, templates_file, auth):
    """Return a row of the server table: persisted/s, accepted/s, CPU per request."""
    with Running(args, server, target) as running:
        run_wrk(args, running.port, templates_file, auth, args.warmup)
        if isinstance(target, App):
            # The worker is up and the warm-up digested: the measure starts
            # from an empty queue.
            target.wait_for_digest()
        server_pids, worker_pids = running.server_pids(), running.worker_pids()
        cpu0, digest0 = cpu_seconds(server_pids), cpu_seconds(worker_pids)
        persisted0 = target.persisted()
        started = time.monotonic()
        requests, failed, _ = run_wrk(
            args, running.port, templates_file, auth, args.seconds
        )
        elapsed = time.monotonic() - started
        persisted1 = target.persisted()
        cpu1, digest1 = cpu_seconds(server_pids), cpu_seconds(worker_pids)
    accepted = max(requests - failed, 1)
    return {
        "persisted": (persisted1 - persisted0) / elapsed,
        "accepted": accepted / args.seconds,
        "failed": failed,
        "cpu": (cpu1 - cpu0) / accepted * 1000,
        "digest_cpu": (
            (digest1 - digest0) / max(persisted1 - persisted0, 1) * 1000
            if worker_pids
            else None
        ),
    }


def measure_latency(args, server, target, public_key, rate):
    """Return the accept p50 and p99 (ms) of the app posted at ``rate`` a second."""
    from benchmarks.events import EventFactory
    from benchmarks.loadgen import LoadGenerator, Templates

    templates = Templates(EventFactory(), variants=50 if args.quick else 200)
    auth = f"Sentry sentry_key={public_key}, sentry_version=7"
    with Running(args, server, target) as running:
        # What the throughput measure left queued is digested first.
        target.wait_for_digest()
        generator = LoadGenerator("127.0.0.1", running.port, auth, templates)

        async def load():
            stop_at = time.monotonic() + args.warmup + args.hold
            await generator.run(
                lambda elapsed: rate, lambda: time.monotonic() > stop_at
            )

        asyncio.run(asyncio.wait_for(load(), timeout=args.hold + args.warmup + 120))
    started = min(scheduled for scheduled, _ in generator.stats.latencies)
    latencies = sorted(
        latency
        for scheduled, latency in generator.stats.latencies
        if scheduled >= started + args.warmup
    ) or [0.0]

    def pct(q):
        return latencies[min(int(len(latencies) * q), len(latencies) - 1)] * 1000

    stats = generator.stats
    return pct(0.5), pct(0.99), stats.rejected + stats.errors


def environ_for(body, auth):
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/sentry/api/1/envelope/",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": "application/x-sentry-envelope",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_SENTRY_AUTH": auth,
        "wsgi.input": BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def callgrind_control(option):
    """Tell the valgrind this process runs under (``--instructions``) to ``option``."""
    subprocess.run(
        ["callgrind_control", option, str(os.getpid())], check=True, capture_output=True
    )


def count_instructions(args):
    """
    Return the instructions per request of the floor and the app (callgrind).

    The same in-process calls, run once under ``valgrind --tool=callgrind``,
    counted only while they run: repeatable to a fraction of a percent
    whatever else the machine does, unlike times.
    """
    folder = tempfile.mkdtemp()
    try:
        command = [
            *("timeout", "-s", "KILL", "1200", "valgrind", "--tool=callgrind"),
            *("--instr-atstart=no", f"--callgrind-out-file={folder}/out.%p"),
            *(sys.executable, "-m", "benchmarks.ingest_floor", "--in-process-only"),
            *("--calls", str(args.calls), "--rounds", "4", "--db", args.db),
            *(["--site-middleware"] if args.site_middleware else []),
        ]
        counts = {}
        for name in ("floor", "app"):
            env = {**os.environ, "INGEST_FLOOR_CALLGRIND": name}
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
            totals = []
            for dump in Path(folder).glob("out.*"):
                text = dump.read_text(errors="replace")
                if f"Trigger: dump {name}" in text:
                    totals += [
                        int(line.split()[1])
                        for line in text.splitlines()
                        if line.startswith("totals:")
                    ]
                dump.unlink()
            # The fewest: a round in which a background thread (sentry-sdk's,
            # in this process) woke up counts its work too.
            counts[name] = min(totals) / args.calls
        return counts
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def call_many(application, bodies, auth, profile=None, counting=None):
    """Call a WSGI ``application`` once per body; return CPU ms per call."""
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    environs = [environ_for(body, auth) for body in bodies]
    if profile is not None:
        profile.enable()
    if counting:
        callgrind_control("--instr=on")
    started = time.process_time()
    for environ in environs:
        response = application(environ, start_response)
        b"".join(response)
        if hasattr(response, "close"):
            response.close()
    elapsed = time.process_time() - started
    if counting:
        callgrind_control("--instr=off")
        callgrind_control(f"--dump={counting}")
    if profile is not None:
        profile.disable()
    refused = [status for status in statuses if not status.startswith("200")]
    if refused:
        raise SystemExit(f"in-process calls refused: {refused[:3]}")
    return elapsed / len(bodies) * 1000


def measure_in_process(args, floor, public_key, templates):
    """Return the CPU ms per request of the floor and the app, called directly."""
    os.environ.update(floor.env)
    from benchmarks import floor_app
    from benchmarks.server.wsgi import application

    floor_app.DATABASE, floor_app.KEY = floor.url, public_key
    auth = f"Sentry sentry_key={public_key}, sentry_version=7"
    rounds = {"floor": [], "app": []}
    profile = None
    if args.profile:
        import cProfile

        profile = cProfile.Profile()
    # What the benchmark itself holds (events, sentry-sdk) is not the
    # server's heap: kept out of the garbage collector's passes.
    import gc

    gc.collect()
    gc.freeze()
    # Under callgrind (--instructions), one of them, counted in each round
    # but the first (a dump each).
    counted = os.environ.get("INGEST_FLOOR_CALLGRIND")
    # Alternate, several rounds: the median of each is what is printed.
    for round_ in range(args.rounds):
        for name, callable_ in (("floor", floor_app.application), ("app", application)):
            if counted and name != counted:
                continue
            bodies = [templates.body(n) for n in range(args.calls)]
            rounds[name].append(
                call_many(
                    callable_,
                    bodies,
                    auth,
                    profile if name == "app" and round_ else None,
                    counting=name if counted and round_ else None,
                )
            )
    # The in-process calls' events are not digested: the servers start afresh.
    from django.db import connections

    from sentry.models import QueuedEvent

    QueuedEvent.objects.all().delete()
    connections.close_all()
    if profile is not None:
        import pstats

        pstats.Stats(profile).sort_stats(
            os.environ.get("INGEST_FLOOR_SORT", "cumulative")
        ).print_stats(80)
    return {
        name: sorted(values)[len(values) // 2]
        for name, values in rounds.items()
        if values
    }


def write_templates(folder, variants):
    """Write the envelope templates wrk posts (NUL-separated); return the path."""
    from benchmarks.events import EventFactory

    factory = EventFactory()
    path = Path(folder) / "envelopes.bin"
    marker = "f" * 32
    path.write_bytes(
        b"\0".join(factory.envelope(n, event_id=marker) for n in range(variants))
    )
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--digest",
        choices=("worker", "embedded", "none"),
        default="worker",
        help="none: nobody digests (the accept path's own cost; nothing persisted)",
    )
    parser.add_argument(
        "--servers", default=None, help="comma-separated: gunicorn,granian"
    )
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--hold", type=float, default=20)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument(
        "--in-process-only", action="store_true", help="no servers, no wrk"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the app's in-process calls"
    )
    parser.add_argument(
        "--queue-db",
        action="store_true",
        help="the app's queue in a database of its own (SENTRY_QUEUE_DATABASE)",
    )
    parser.add_argument(
        "--site-middleware",
        action="store_true",
        help="the app under the middleware startproject gives a site",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions per request in process (valgrind)",
    )
    parser.add_argument("--quick", action="store_true", help="seconds (the tests)")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup, args.hold = 2, 1, 2
        args.calls, args.rounds, args.max_seconds = 100, 3, 120
    if args.servers is None:
        args.servers = "gunicorn" if args.quick else "gunicorn,granian"
    servers = args.servers.split(",")
    if "granian" in servers and not _importable("granian"):
        print("granian is not installed (pip install granian): gunicorn only")
        servers.remove("granian")
    if not args.in_process_only and shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (Debian, Ubuntu)")

    # Nobody digests in this process: the in-process measure is the accept.
    os.environ["SENTRY_SERVER_DIGEST"] = "worker"
    if args.site_middleware:
        os.environ["SENTRY_SERVER_MIDDLEWARE"] = "site"
    with tempfile.TemporaryDirectory() as folder:
        database = Database(args.db, folder, queue_db=args.queue_db)
        key = database.create()
        floor = Floor(args.db, folder, key.public_key)
        floor.create()
        try:
            from benchmarks.events import EventFactory
            from benchmarks.loadgen import Templates

            templates = Templates(EventFactory(), variants=50 if args.quick else 200)
            in_process = measure_in_process(args, floor, key.public_key, templates)
            if os.environ.get("INGEST_FLOOR_CALLGRIND"):
                return  # counted by the parent (count_instructions)
            if args.instructions:
                if shutil.which("valgrind") is None:
                    sys.exit("valgrind is not installed: apt-get install valgrind")
                in_process["instructions"] = count_instructions(args)
            rows = {}
            if not args.in_process_only:
                templates_file = write_templates(folder, 50 if args.quick else 200)
                auth = f"Sentry sentry_key={key.public_key}, sentry_version=7"
                app = App(database, args.digest)
                for server in servers:
                    for target in (floor, app):
                        rows[server, target.name] = measure_throughput(
                            args, server, target, templates_file, auth
                        )
                    rate = max(rows[server, "app"]["persisted"] * 0.8, 10)
                    rows[server, "latency"] = (rate,) + measure_latency(
                        args, server, app, key.public_key, rate
                    )
        finally:
            from django.db import connections

            connections.close_all()
            database.drop()
            floor.drop()
    print_report(args, in_process, servers, rows)


def _importable(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


def print_report(args, in_process, servers, rows):
    load = os.getloadavg()[0]
    print(
        f"accept path against the floor: {args.db}, digest {args.digest}, "
        f"{'site middleware, ' if args.site_middleware else ''}"
        f"{'queue database, ' if args.queue_db else ''}"
        f"{os.cpu_count()} cores, load average {load:.1f} at the end"
    )
    floor_cpu, app_cpu = in_process["floor"], in_process["app"]
    print(
        f"in process, CPU ms per request (median of {args.rounds} x {args.calls}): "
        f"floor {floor_cpu:.3f}, app {app_cpu:.3f}, app/floor {app_cpu / floor_cpu:.2f}"
    )
    if "instructions" in in_process:
        counts = in_process["instructions"]
        print(
            f"in process, instructions per request (callgrind, {args.calls} calls): "
            f"floor {counts['floor'] / 1e6:.3f} M, app {counts['app'] / 1e6:.3f} M, "
            f"app/floor {counts['app'] / counts['floor']:.2f}"
        )
    if not rows:
        return
    print(
        f"{'server':<9} {'':<6} {'persisted/s':>11} {'accepted/s':>11} "
        f"{'CPU ms/req':>10} {'digest CPU ms/ev':>16} {'failed':>6}"
    )
    for server in servers:
        for name in ("floor", "app"):
            row = rows[server, name]
            digest = row["digest_cpu"]
            print(
                f"{server:<9} {name:<6} {row['persisted']:>11.0f} "
                f"{row['accepted']:>11.0f} {row['cpu']:>10.3f} "
                f"{'--' if digest is None else f'{digest:.3f}':>16} {row['failed']:>6}"
            )
    for server in servers:
        floor, app = rows[server, "floor"], rows[server, "app"]
        rate, p50, p99, refused = rows[server, "latency"]
        ratio = app["persisted"] / floor["persisted"]
        print(
            f"{server}: app/floor persisted {ratio:.2f}, "
            f"CPU per request app/floor {app['cpu'] / floor['cpu']:.2f}; "
            f"at {rate:.0f}/s (80 %): accept p50 {p50:.1f} ms, p99 {p99:.1f} ms"
            f"{f', {refused} refused' if refused else ''}"
        )


if __name__ == "__main__":
    main()
