"""Several processes recording the same few errors at once."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum

from sentry.models import (
    GroupedMessage,
    Message,
    MessageCountByMinute,
    MessageFilterValue,
    Project,
)

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
PER_WORKER = 60
KINDS = 3


def run_workers(*args):
    """Run ``tests.worker`` in WORKERS processes at once; return their outputs."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.worker", *args],
            cwd=ROOT,
            env=worker_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def worker_env():
    env = dict(os.environ)
    env["SENTRY_TEST_DB"] = (
        connection.vendor if connection.vendor == "postgresql" else "sqlite"
    )
    env["SENTRY_TEST_DB_NAME"] = connection.settings_dict["NAME"]
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_lose_no_counts_and_create_no_duplicate_groups():
    start_at = time.time() + 2.0
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.worker",
                "record",
                str(PER_WORKER),
                str(KINDS),
                str(start_at),
            ],
            cwd=ROOT,
            env=worker_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))

    total = WORKERS * PER_WORKER
    assert sum(r["failed"] for r in results) == 0
    assert GroupedMessage.objects.count() == KINDS
    assert GroupedMessage.objects.aggregate(n=Sum("times_seen"))["n"] == total
    for group in GroupedMessage.objects.all():
        assert group.times_seen == total // KINDS
        assert group.message_set.count() == total // KINDS
    assert Message.objects.count() == total
    servers = MessageFilterValue.objects.filter(key="server_name")
    assert servers.aggregate(n=Sum("times_seen"))["n"] == total
    assert MessageCountByMinute.objects.aggregate(n=Sum("times_seen"))["n"] == total


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_number_each_project_s_groups_without_gaps():
    Project.objects.create(name="Second", slug="second")
    results = run_workers("new-groups", "30", str(time.time() + 2.0))

    assert sum(r["failed"] for r in results) == 0
    assert sum(r["recorded"] for r in results) == WORKERS * 30 * 2
    # 15 new groups per worker and project, and two shared errors in each.
    for project in Project.objects.filter(slug__in=["default", "second"]):
        numbers = sorted(project.groups.values_list("short_id", flat=True))
        assert numbers == list(range(1, WORKERS * 15 + 2 + 1))
        assert project.last_short_id == len(numbers)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_of_new_and_known_groups_never_deadlock():
    second = Project.objects.create(name="Second", slug="second")
    batches, size = 8, 24
    results = run_workers(
        "batches", str(batches), str(size), str(second.pk), str(time.time() + 2.0)
    )

    # No batch failed (PostgreSQL aborts one of two deadlocked writers).
    assert sum(r["failed"] for r in results) == 0
    assert Message.objects.count() == WORKERS * batches * size
    for project in Project.objects.filter(pk__in=[1, second.pk]):
        numbers = sorted(project.groups.values_list("short_id", flat=True))
        assert numbers == list(range(1, len(numbers) + 1))
        assert project.last_short_id == len(numbers)
