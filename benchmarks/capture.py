"""
Capture cost: ``client.create_from_exception()`` against
``sentry_sdk.capture_exception()`` of the same exception, in one process.

The exception is realistic: raised ten frames deep, each frame with a few
local variables (strings, numbers, a dict, a list, a model-like object), with
a Django request. django-sentry's client stores the occurrence synchronously
in SQLite (WAL, as recommended); the SDK builds and serialises its event and
hands it to a transport that drops it (its sending happens on a background
thread anyway), so the SDK's figure is its in-process cost only.

    python benchmarks/capture.py            # 2,000 rounds
    python benchmarks/capture.py --quick    # a few hundred, for CI

Prints a table of per-capture medians and the ratio.
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
    args = parser.parse_args()
    rounds = 200 if args.quick else args.rounds

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(os.path.join(tmp, "capture.sqlite3"))
        import sentry_sdk
        from django.test import override_settings
        from sentry_sdk.transport import Transport

        from sentry.client.models import client

        class DropTransport(Transport):
            def capture_envelope(self, envelope):
                pass

        sentry_sdk.init(
            dsn="http://public@127.0.0.1:9/1",
            transport=DropTransport,
            default_integrations=False,
            auto_enabling_integrations=False,
            include_local_variables=True,
            send_default_pii=True,
        )
        exc = make_exception()
        request = make_request()
        exc_info = (type(exc), exc, exc.__traceback__)

        def ours():
            assert client.create_from_exception(exc_info=exc_info, request=request)

        def theirs():
            with sentry_sdk.new_scope() as scope:
                scope.set_context("request", {"url": request.build_absolute_uri()})
                assert sentry_sdk.capture_exception(exc)

        with override_settings(SENTRY_THRASHING_LIMIT=0):
            # Warm up both, then interleave the rounds so drift hits both.
            time_rounds(ours, 20)
            time_rounds(theirs, 20)
            ours_samples, theirs_samples = [], []
            for _ in range(5):
                ours_samples += time_rounds(ours, rounds // 5)
                theirs_samples += time_rounds(theirs, rounds // 5)

    ours_median = statistics.median(ours_samples) * 1000
    theirs_median = statistics.median(theirs_samples) * 1000
    print(f"{'capture':<48} {'median ms':>10} {'p95 ms':>8}")
    for name, samples in (
        ("django-sentry create_from_exception (stored)", ours_samples),
        ("sentry_sdk.capture_exception (not sent)", theirs_samples),
    ):
        p95 = statistics.quantiles(samples, n=20)[18] * 1000
        print(f"{name:<48} {statistics.median(samples) * 1000:>10.3f} {p95:>8.3f}")
    ratio = ours_median / theirs_median
    print(f"ratio (ours / sdk): {ratio:.2f}  rounds: {len(ours_samples)}")


if __name__ == "__main__":
    main()
