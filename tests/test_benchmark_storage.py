"""The storage and capture benchmarks still run, and a fresh database stays small."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def run(*args):
    # The scripts configure Django themselves.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def per_event(lines, label):
    return int(next(line for line in lines if line.startswith(label)).split()[-1])


@pytest.mark.skipif(
    os.environ.get("SENTRY_TEST_DB", "sqlite") != "sqlite",
    reason="measures an SQLite file",
)
def test_a_fresh_database_of_3000_events_takes_under_1_5_kb_each_on_disk():
    lines = run("-m", "benchmarks.storage", "--events", "3000")

    assert lines[0] == "storage: sqlite, 3000 events over 50 errors"
    whole = per_event(lines, "the whole file, per event")
    free = per_event(lines, "  of which free pages")
    # Without giving the queue's pages back: about 2,000, half of it free.
    assert whole <= 1500
    assert free <= 200
    assert per_event(lines, "write-ahead log left, per event") == 0


def test_the_capture_benchmark_runs_and_prints_its_ratios():
    lines = run("benchmarks/capture.py", "--rounds", "50")

    rows = [line for line in lines if line.startswith(("django-sentry", "sentry_sdk"))]
    assert len(rows) == 3
    assert rows[-1].split()[-1] == "1.00"
    assert run("benchmarks/capture.py", "--only", "stored", "--rounds", "5") == []
