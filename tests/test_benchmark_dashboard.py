"""The dashboard benchmark still runs (quick mode: small data, a few seconds)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_the_dashboard_benchmark_runs_and_prints_its_table():
    engine = os.environ.get("SENTRY_TEST_DB", "sqlite")
    env = {
        key: value
        for key, value in os.environ.items()
        # The script configures Django itself.
        if key != "DJANGO_SETTINGS_MODULE"
    }

    result = subprocess.run(
        [sys.executable, "benchmarks/dashboard.py", "--quick", "--db", engine],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        f"{engine}: 2,000 occurrences in 50 groups of 10 projects"
    )
    rows = {line.split("  ")[0]: line.split() for line in lines[3:-1]}
    for page in (
        "stream",
        "stream, one project",
        "live update (JSON)",
        "live update, one project",
        "projects overview",
        "group (24 h)",
        "occurrences",
    ):
        assert page in rows, page
    # Query counts do not depend on the data: the same as the pinned tests
    # (the stream's first page reads the environments its selector offers).
    assert rows["stream"][-1] == "10"
    assert rows["stream, one project"][-1] == "10"
    assert rows["live update (JSON)"][-1] == "4"
    assert rows["live update, one project"][-1] == "4"
    assert rows["projects overview"][-1] == "5"
    # Session, user, group, latest occurrence, trend, tags (tests/test_group_tags.py).
    assert rows["group (24 h)"][-1] == "6"
    assert rows["occurrences"][-1] == "4"
    # Narrowed by a value linked to each occurrence: the counters of the
    # value, and the links when they are few (sentry.search.apply._linked);
    # a negated value: its counters' sum and the error's count.
    for name in ("occurrences, user", "occurrences, browser"):
        assert rows[name][-1] in ("5", "6"), name
    assert rows["occurrences, !browser"][-1] == "6"
    # Each form of the search language: the stream's queries, whatever it is.
    searches = [name for name in rows if name.startswith("search: ")]
    assert len(searches) == 11
    for name in searches:
        assert rows[name][-1] == "10", name
    assert lines[-1].startswith("worst p95: ")
