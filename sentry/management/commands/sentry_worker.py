"""``manage.py sentry_worker``: digest the queue of accepted events."""

import signal
import time

from django.core.management.base import BaseCommand
from django.db import connections

from ...conf import settings
from ...drain import drain_available


class StopRequest:
    """
    A stop asked for by a signal: a flag, and waits that notice it.

    Not a ``threading.Event``: its ``set()`` takes the lock its ``wait()``
    holds around every wake-up, and a handler running in the main thread
    at that moment waits for it forever -- a worker that never stops.
    """

    #: Seconds between two looks at the flag while waiting.
    TICK = 0.05

    def __init__(self):
        self.requested = False

    def set(self, *args):
        self.requested = True

    def is_set(self):
        return self.requested

    def wait(self, seconds):
        """Sleep ``seconds``, or until a stop is asked for."""
        deadline = time.monotonic() + seconds
        while not self.requested:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, self.TICK))


class Command(BaseCommand):
    help = (
        "Digest the queue of accepted events until stopped (SIGTERM, SIGINT), "
        "or once with --once. Run it with SENTRY_DIGEST = 'worker'; beside "
        "the other modes it shares the work."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="digest what is queued, then exit"
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="events per transaction (default: SENTRY_DIGEST_BATCH_SIZE)",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="seconds between looks at an empty queue "
            "(default: SENTRY_DIGEST_INTERVAL)",
        )
        parser.add_argument(
            "--max-seconds",
            type=float,
            default=None,
            help="stop after this many seconds (bounded runs)",
        )

    def handle(self, *args, once=False, batch_size=None, interval=None, **options):
        interval = interval if interval is not None else settings.DIGEST_INTERVAL
        stop = StopRequest()
        started = time.monotonic()
        max_seconds = options["max_seconds"]
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, stop.set)
        total = 0
        try:
            while not stop.is_set():
                if max_seconds is not None and time.monotonic() - started > max_seconds:
                    break
                report = drain_available(
                    blocking=True,
                    timeout=max(interval, 0.1),
                    batch_size=batch_size,
                )
                if report is not None:
                    total += report.digested
                    if report.batches and options["verbosity"] >= 2:
                        self.stdout.write(str(report))
                    if once:
                        break
                if report is None or not report.batches:
                    # Nothing there, or another drainer at it: look again soon.
                    connections.close_all()
                    stop.wait(interval)
        finally:
            connections.close_all()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Digested {total} events.")
