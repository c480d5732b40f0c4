"""The wheel carries everything the app needs at run time."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_includes_templates_static_files_and_migrations(tmp_path):
    # setuptools reuses build/lib: a stale copy could hide a missing file.
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("django_sentry-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    assert "sentry/migrations/0001_initial.py" in names
    assert "sentry/templates/sentry/index.html" in names
    assert "sentry/static/sentry/sentry.css" in names
    assert "sentry/client/handlers.py" in names
    # The test suite, the demo and the benchmarks are not shipped.
    assert not any(
        name.startswith(("tests/", "example_project/", "benchmarks/")) for name in names
    )
