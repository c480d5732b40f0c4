"""The host survives our failures: the database down, locked or read-only."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_worker(env_changes, timeout=60):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **env_changes)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.worker", "survive"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_unharmed(result):
    assert result["caller_continued"] is True
    assert result["exception"] is None
    assert result["text"] is None
    # Each failure is in sentry.errors, with the event's text in full.
    assert result["logged_errors"] == 3
    assert "ZeroDivisionError" in result["logged_text"]
    assert "text while the database is down" in result["logged_text"]
    assert "logged while the database is down" in result["logged_text"]


@pytest.mark.slow
def test_an_unreachable_postgresql_leaves_the_caller_unharmed():
    result = run_worker({"SENTRY_TEST_DB": "postgresql", "PGPORT": "1"})
    assert_unharmed(result)


@pytest.mark.slow
def test_a_missing_sqlite_database_leaves_the_caller_unharmed(tmp_path):
    result = run_worker(
        {
            "SENTRY_TEST_DB": "sqlite",
            "SENTRY_TEST_DB_NAME": str(tmp_path / "no" / "db.sqlite3"),
        }
    )
    assert_unharmed(result)


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory):
    """A migrated SQLite database of its own, whatever the suite runs on."""
    path = tmp_path_factory.mktemp("faults") / "db.sqlite3"
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        SENTRY_TEST_DB="sqlite",
        SENTRY_TEST_DB_NAME=str(path),
        DJANGO_SETTINGS_MODULE="tests.settings",
    )
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    return path


@pytest.mark.slow
def test_a_locked_sqlite_database_leaves_the_caller_unharmed(sqlite_file):
    locker = sqlite3.connect(sqlite_file, timeout=0)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        result = run_worker(
            {
                "SENTRY_TEST_DB": "sqlite",
                "SENTRY_TEST_DB_NAME": str(sqlite_file),
                "SENTRY_TEST_SQLITE_TIMEOUT": "0.2",
            }
        )
    finally:
        locker.rollback()
        locker.close()
    assert_unharmed(result)


@pytest.mark.slow
def test_a_read_only_database_leaves_the_caller_unharmed(sqlite_file):
    result = run_worker(
        {
            "SENTRY_TEST_DB": "sqlite",
            "SENTRY_TEST_DB_NAME": f"file:{sqlite_file}?mode=ro",
        }
    )
    assert_unharmed(result)
