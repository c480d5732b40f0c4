"""
Capture cost: ``client.create_from_exception()`` against
``sentry_sdk.capture_exception()`` of the same exception, in one process.

The exception is realistic: raised ten frames deep, each frame with a few
local variables (strings, numbers, a dict, a list, a model-like object), with
a Django request. Two django-sentry clients are measured: the default one,
which stores the occurrence synchronously in SQLite (WAL, as recommended),
and the queued one (``sentry.client.queued.QueuedSentryClient``), which only
inserts the event into the queue and leaves scrubbing, grouping and storing
to the digest (not timed here: it runs off the request). The SDK builds and
serialises its event and hands it to a transport that drops it (its sending
happens on a background thread anyway), so the SDK's figure is its
in-process cost only.

    python benchmarks/capture.py            # 2,000 rounds
    python benchmarks/capture.py --quick    # a few hundred, for CI

Prints a table of per-capture medians and the ratio. On a machine shared
with other work the wall clock moves from run to run; the instructions a
capture executes do not. ``--only`` warms the three captures up, then runs
``--rounds`` of one and prints nothing: under callgrind, the difference
with ``--only none`` divided by the rounds is one capture's instructions.

    valgrind --tool=callgrind python benchmarks/capture.py --only stored --rounds 50
    valgrind --tool=callgrind python benchmarks/capture.py --only none
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(db_path):
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["SENTRY_TEST_DB"] = "sqlite"
    os.environ["SENTRY_TEST_DB_NAME"] = db_path
    import django
    from django.conf import settings

    django.setup()
    settings.DATABASES["default"]["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Order:
    def __init__(self, number):
        self.number = number
        self.lines = [{"sku": f"SKU-{n}", "qty": n} for n in range(3)]

    def __repr__(self):
        return f"<Order {self.number}>"


def make_exception():
    """Raise through ten frames with locals; return the exception."""

    def level(depth, order, context):
        label = f"level {depth}"  # noqa: F841
        ratio = depth / 10  # noqa: F841
        if depth == 10:
            total = sum(line["qty"] for line in order.lines)
            return total / (depth - 10)
        return level(depth + 1, order, {**context, "depth": depth})

    try:
        level(1, Order(1234), {"user": "jane", "cart": [1, 2, 3]})
    except ZeroDivisionError as exc:
        return exc


def make_request():
    from django.test import RequestFactory

    return RequestFactory().post(
        "/checkout/?step=2",
        {"sku": "A-1", "qty": "2", "password": "hunter2"},
        HTTP_USER_AGENT="Mozilla/5.0 (benchmark)",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def time_rounds(func, rounds):
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="a few hundred rounds")
    parser.add_argument(
        "--only",
        choices=("stored", "queued", "sdk", "none"),
        help="after the warm-up, run only this capture, untimed (for callgrind)",
    )
    args = parser.parse_args()
    rounds = 200 if args.quick else args.rounds

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(os.path.join(tmp, "capture.sqlite3"))
        import sentry_sdk
        from django.test import override_settings
        from sentry_sdk.transport import Transport

        from benchmarks.events import full_capture_options
        from sentry.client.models import client
        from sentry.client.queued import QueuedSentryClient

        queued_client = QueuedSentryClient()

        class DropTransport(Transport):
            def capture_envelope(self, envelope):
                pass

        sentry_sdk.init(
            dsn="http://public@127.0.0.1:9/1",
            transport=DropTransport,
            default_integrations=False,
            auto_enabling_integrations=False,
            **full_capture_options(sentry_sdk),
        )
        exc = make_exception()
        request = make_request()
        exc_info = (type(exc), exc, exc.__traceback__)

        def ours():
            assert client.create_from_exception(exc_info=exc_info, request=request)

        def queued():
            assert queued_client.create_from_exception(
                exc_info=exc_info, request=request
            )

        def theirs():
            with sentry_sdk.new_scope() as scope:
                scope.set_context("request", {"url": request.build_absolute_uri()})
                assert sentry_sdk.capture_exception(exc)

        with override_settings(SENTRY_THRASHING_LIMIT=0, SENTRY_DIGEST="worker"):
            # Warm up all, then interleave the rounds so drift hits all.
            time_rounds(ours, 20)
            time_rounds(queued, 20)
            time_rounds(theirs, 20)
            if args.only:
                only = {"stored": ours, "queued": queued, "sdk": theirs}
                if args.only in only:
                    for _ in range(args.rounds):
                        only[args.only]()
                return
            ours_samples, queued_samples, theirs_samples = [], [], []
            for _ in range(5):
                ours_samples += time_rounds(ours, rounds // 5)
                queued_samples += time_rounds(queued, rounds // 5)
                theirs_samples += time_rounds(theirs, rounds // 5)

    theirs_median = statistics.median(theirs_samples)
    print(f"{'capture':<48} {'median ms':>10} {'p95 ms':>8} {'/ sdk':>6}")
    for name, samples in (
        ("django-sentry create_from_exception (stored)", ours_samples),
        ("django-sentry queued client (queued only)", queued_samples),
        ("sentry_sdk.capture_exception (not sent)", theirs_samples),
    ):
        p95 = statistics.quantiles(samples, n=20)[18] * 1000
        median = statistics.median(samples)
        print(
            f"{name:<48} {median * 1000:>10.3f} {p95:>8.3f}"
            f" {median / theirs_median:>6.2f}"
        )
    print(f"rounds: {len(ours_samples)} each")


if __name__ == "__main__":
    main()
