"""The accept-path benchmark still runs (quick mode: seconds) and prints its ratios."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_the_floor_benchmark_runs_the_app_beside_the_floor_and_prints_ratios():
    assert shutil.which("wrk"), "wrk is missing: make system-packages"
    engine = os.environ.get("SENTRY_TEST_DB", "sqlite")
    env = {
        key: value
        for key, value in os.environ.items()
        # The script configures Django itself.
        if key != "DJANGO_SETTINGS_MODULE"
    }

    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.ingest_floor", "--quick", "--db", engine],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"accept path against the floor: {engine}, digest worker")
    floor_cpu, app_cpu = map(
        float, re.search(r"floor ([\d.]+), app ([\d.]+), app/floor", out).groups()
    )
    # Whatever the machine's load, the app does more than the bare insert.
    assert 0 < floor_cpu < app_cpu
    rows = {
        tuple(line.split()[:2]): line.split()[2:]
        for line in out.splitlines()
        if line.startswith("gunicorn ")
    }
    for name in ("floor", "app"):
        persisted, accepted, cpu, _, failed = rows["gunicorn", name]
        # Every request answered 200, and what was answered got persisted.
        assert failed == "0"
        assert float(persisted) > 0 and float(accepted) > 0 and float(cpu) > 0
    summary = re.search(
        r"gunicorn: app/floor persisted ([\d.]+), CPU per request app/floor ([\d.]+); "
        r"at (\d+)/s \(80 %\): accept p50 ([\d.]+) ms, p99 ([\d.]+) ms",
        out,
    )
    assert summary, out
    assert float(summary[1]) > 0
    assert float(summary[5]) >= float(summary[4]) > 0
