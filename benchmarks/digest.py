"""
Digest: the CPU one queued event costs, phase by phase.

    python -m benchmarks.digest            # 5,000 events, 5 repetitions
    python -m benchmarks.digest --quick    # 500 events, 3 repetitions (CI)
    python -m benchmarks.digest --profile digest.prof   # keep the profile

The events are the HTTP benchmark's (about 5.5 KB envelopes over 50 distinct
errors, :mod:`benchmarks.events`), queued into a fresh SQLite database (WAL,
as docs/throughput.rst recommends) and digested by
:func:`sentry.digest.drain` in this process, with the flood guard off so that
every event gets its ``Message`` row. Each repetition queues new events (new
ids, the same 50 groups, created by a warm-up run) and times the drain alone.
Prints events/s and microseconds per event (wall clock and this process's
CPU, medians over the repetitions); then the CPU time of each step of one
more drain, each timed on its own; then the same for events that are each a
new error (a fingerprint of their own), which is what writes the search index
(:mod:`sentry.search.index`), with the index's own share timed on its own;
then where one more drain, under cProfile, spends its time: each phase is
the time of one step's function as called by the digest (``pstats`` caller
edges), so nested steps are not counted twice.
cProfile makes pure-Python steps (many small calls) look costlier than they
are; the timed steps do not.
"""

import argparse
import contextlib
import cProfile
import importlib
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: Phases of the digest as ``(caller, callee)`` edges of the profile, each
#: function named ``"path/suffix.py:name"``; a phase adds up its edges. Edges
#: that a version of the code does not have are simply absent.
PHASES = (
    ("claim and load rows", [("digest.py:drain", "db.py:run_in_transaction")]),
    ("", [("digest.py:drain", "queue.py:load")]),
    ("JSON", [("digest.py:read_event", "json/__init__.py:loads")]),
    ("", [("digest.py:read_event", "queue.py:decode")]),
    ("mapping", [("digest.py:read_event", "mapping.py:map_event")]),
    ("normalize", [("pipeline.py:prepare", "pipeline.py:normalize")]),
    ("shaping", [("pipeline.py:prepare", "eventdata.py:shape_event_data")]),
    ("scrubbing", [("pipeline.py:prepare", "scrubbing.py:__call__")]),
    ("", [("pipeline.py:prepare", "scrubbing.py:text")]),
    (
        "shaping + scrubbing, one walk",
        [("pipeline.py:prepare", "jsondata.py:shape_and_scrub")],
    ),
    ("checksum", [("pipeline.py:prepare", "grouping.py:get_checksum")]),
    ("size bound", [("pipeline.py:prepare", "limits.py:enforce_size")]),
    ("flood guard (the guess)", [("digest.py:_store", "pipeline.py:check_flood")]),
    (
        "encode (pack, compress)",
        [
            ("digest.py:_store", "storage.py:encode_data"),
            ("digest.py:_store", "packing.py:pack_events"),
        ],
    ),
    ("store (write transaction)", [("digest.py:_store", "storage.py:store_batch")]),
    ("", [("digest.py:_store", "transaction.py:__exit__")]),
    ("post-process", [("digest.py:_digest", "postprocess.py:schedule")]),
    ("checkpoint", [("digest.py:drain", "digest.py:checkpoint")]),
)


#: Steps of the digest timed on their own (CPU time of this process) in one
#: more drain: ``(label, module, function)``, each a function the digest
#: calls through its module's attribute, so that a timer can stand in for it.
STEPS = (
    ("claim", "sentry.queue", "claim"),
    ("load rows", "sentry.queue", "load"),
    ("JSON", "json", "loads"),
    ("mapping", "sentry.ingest.mapping", "map_event"),
    ("prepare (shape, scrub, group...)", "sentry.pipeline", "prepare"),
    ("flood guard", "sentry.pipeline", "check_flood"),
    ("encode (pickle, compress)", "sentry.digest", "encode_data"),
    ("encode (pack, compress)", "sentry.packing", "pack_events"),
    ("store (write transaction)", "sentry.digest", "store_batch"),
    ("  of which: search index", "sentry.storage", "index_groups"),
    ("notify", "sentry.digest", "notify"),
)


@contextlib.contextmanager
def timed_steps():
    """Time each of :data:`STEPS` within the block; yield ``{label: seconds}``."""
    totals, saved = {}, []
    for label, module_name, name in STEPS:
        module = importlib.import_module(module_name)
        function = getattr(module, name, None)
        if function is not None:
            saved.append((module, name, function))
            setattr(module, name, _timer(function, label, totals))
    try:
        yield totals
    finally:
        for module, name, function in saved:
            setattr(module, name, function)


def _timer(function, label, totals):
    totals[label] = 0.0

    def timed(*args, **kwargs):
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            totals[label] += time.process_time() - started

    return timed


def _named(func, name):
    path, _, function = name.partition(":")
    filename, _, funcname = func
    return funcname == function and filename.endswith(path)


def phase_times(stats):
    """Return ``[(phase, seconds)]`` from a :class:`pstats.Stats`."""
    totals, order = {}, []
    label = None
    for name, edges in PHASES:
        label = name or label
        if label not in totals:
            totals[label] = 0.0
            order.append(label)
        for caller_name, callee_name in edges:
            for func, (_, _, _, _, callers) in stats.stats.items():
                if not _named(func, callee_name):
                    continue
                for caller, timing in callers.items():
                    if _named(caller, caller_name):
                        totals[label] += timing[3]
    return [(label, totals[label]) for label in order]


def queue_events(factory, count, new_errors=False):
    """Queue ``count`` new occurrences (fresh ids) for the digest.

    With ``new_errors`` each is an error of its own (its own fingerprint).
    """
    from sentry import queue

    for start in range(0, count, 500):
        entries = []
        for n in range(start, min(start + 500, count)):
            event = factory.payload(n, event_id=uuid.uuid4().hex)
            if new_errors:
                event["fingerprint"] = [event["event_id"]]
            entries.append(
                queue.Entry(
                    event["event_id"],
                    queue.KIND_EVENT,
                    json.dumps(event, separators=(",", ":")).encode(),
                    site="bench",
                )
            )
        queue.enqueue("default", entries)


def timed_drain(count):
    """Return ``(wall seconds, CPU seconds)`` of one drain of ``count`` events."""
    from sentry.digest import drain

    wall, cpu = time.perf_counter(), time.process_time()
    report = drain()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if report.digested != count:
        raise SystemExit(f"digested {report.digested} of {count}: {report!r}")
    return wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", metavar="FILE", help="save the cProfile stats")
    args = parser.parse_args()
    count, repeat = (500, 3) if args.quick else (args.events, args.repeat)

    from benchmarks.ingest_http import Database

    with tempfile.TemporaryDirectory() as folder:
        database = Database("sqlite", folder)
        database.create()
        from django.test import override_settings

        from benchmarks.events import EventFactory

        factory = EventFactory()
        with override_settings(SENTRY_THRASHING_LIMIT=0, SENTRY_DIGEST="worker"):
            # Warm-up: creates the 50 groups, fills every cache.
            queue_events(factory, min(count, 500))
            timed_drain(min(count, 500))
            runs = []
            for _ in range(repeat):
                queue_events(factory, count)
                runs.append(timed_drain(count))
            queue_events(factory, count)
            with timed_steps() as steps:
                timed_drain(count)
            queue_events(factory, count)
            profile = cProfile.Profile()
            profile.enable()
            timed_drain(count)
            profile.disable()
            new_runs = []
            for _ in range(repeat):
                queue_events(factory, count, new_errors=True)
                new_runs.append(timed_drain(count))
            queue_events(factory, count, new_errors=True)
            with timed_steps() as new_steps:
                timed_drain(count)
    if args.profile:
        profile.dump_stats(args.profile)

    wall = statistics.median(run[0] for run in runs)
    cpu = statistics.median(run[1] for run in runs)
    stats = pstats.Stats(profile)
    print(f"digest: SQLite, {count} events over 50 errors, {repeat} repetitions")
    print(f"{'median':<30} {'events/s':>10} {'µs/event':>10}")
    for label, seconds in (("wall clock", wall), ("CPU of this process", cpu)):
        print(f"{label:<30} {count / seconds:>10.0f} {seconds / count * 1e6:>10.0f}")
    runs_text = ", ".join(f"{run[0] / count * 1e6:.0f}" for run in runs)
    print(f"each run (µs/event, wall): {runs_text}")
    print()
    print("steps timed on their own in one more drain (CPU)")
    print(f"{'step':<34} {'µs/event':>10}")
    for label, seconds in steps.items():
        print(f"{label:<34} {seconds / count * 1e6:>10.0f}")
    print()
    print(f"each event a new error ({count} new errors per run), median")
    print(f"{'median':<30} {'events/s':>10} {'µs/event':>10}")
    new_wall = statistics.median(run[0] for run in new_runs)
    new_cpu = statistics.median(run[1] for run in new_runs)
    for label, seconds in (("wall clock", new_wall), ("CPU of this process", new_cpu)):
        print(f"{label:<30} {count / seconds:>10.0f} {seconds / count * 1e6:>10.0f}")
    for label in ("store (write transaction)", "  of which: search index"):
        if label in new_steps:
            seconds = new_steps[label]
            print(f"{label:<30} {'':>10} {seconds / count * 1e6:>10.0f}")
    print()
    total = stats.total_tt
    phases = phase_times(stats)
    print(f"cProfile of one more drain ({total / count * 1e6:.0f} µs/event profiled)")
    print(f"{'phase':<30} {'µs/event':>10} {'share':>8}")
    for label, seconds in phases:
        print(f"{label:<30} {seconds / count * 1e6:>10.0f} {seconds / total:>8.1%}")
    rest = total - sum(seconds for _, seconds in phases)
    print(f"{'the rest':<30} {rest / count * 1e6:>10.0f} {rest / total:>8.1%}")


if __name__ == "__main__":
    os.environ.setdefault("SENTRY_SERVER_DIGEST", "worker")
    main()
