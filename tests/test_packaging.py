"""The wheel carries everything the app needs at run time, and works installed."""

import os
import shutil
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sentry"
#: What the installed copy's check imports besides sentry (the runtime
#: dependencies of pyproject.toml and the test client's).
DEPENDENCIES = ("django", "picklefield", "simplejson", "brotli", "asgiref", "sqlparse")


def build_wheel(directory):
    """
    Build the wheel from a clean copy of the sources into ``directory``.

    A copy, because a checkout's ``*.egg-info/SOURCES.txt`` (left by an
    editable install) lists every file and setuptools reuses it: built in
    place, a file the package-data globs miss still gets in.
    """
    source = Path(directory) / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.rst"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        PACKAGE, source / "sentry", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(directory),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = Path(directory).glob("django_sentry-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def checkout_files():
    """Return every file of the package in the checkout, as wheel names."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.slow
def test_the_wheel_includes_templates_static_files_and_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())

    assert "sentry/migrations/0001_initial.py" in names
    assert "sentry/templates/sentry/index.html" in names
    assert "sentry/templates/sentry/emails/error.txt" in names
    assert "sentry/static/sentry/sentry.css" in names
    assert "sentry/client/handlers.py" in names
    assert "sentry/management/commands/cleanup_sentry.py" in names
    # The test suite, the demo and the benchmarks are not shipped.
    assert not any(
        name.startswith(("tests/", "example_project/", "benchmarks/")) for name in names
    )


@pytest.mark.slow
def test_the_wheel_holds_every_file_of_the_package_whatever_its_suffix(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())

    assert checkout_files() - names == set()


def clean_environment():
    """Return the environment without what would put the checkout on the path."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTHON", "DJANGO_", "SENTRY_", "PIP_"))
    }


def make_venv(directory, wheel):
    """
    Return the Python of a new venv holding the wheel, installed by pip.

    The venv sees neither the checkout nor the test environment's
    site-packages: only the wheel, and a ``.pth`` file that appends the
    directories of the runtime dependencies (Django and the rest are not
    under test; reading them from here keeps the test offline and fast).
    """
    venv.EnvBuilder(with_pip=False, clear=True).create(directory)
    python = Path(directory) / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        env=clean_environment(),
        check=True,
        capture_output=True,
        timeout=300,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    dependency_dirs = dict.fromkeys(
        str(Path(__import__(name).__file__).resolve().parent.parent)
        if Path(__import__(name).__file__).name == "__init__.py"
        else str(Path(__import__(name).__file__).resolve().parent)
        for name in DEPENDENCIES
    )
    # Appended after the venv's own site-packages: the wheel's sentry wins,
    # and the editable install of the checkout (a .pth hook in this
    # environment) is not run, since listed directories are not site dirs.
    (Path(purelib) / "dependencies.pth").write_text("\n".join(dependency_dirs) + "\n")
    return python


@pytest.mark.slow
def test_the_installed_wheel_migrates_renders_every_page_serves_static_and_mails(
    wheel, tmp_path
):
    started = time.monotonic()
    python = make_venv(tmp_path / "venv", wheel)
    work = tmp_path / "site"
    work.mkdir()
    (work / "site_urls.py").write_text(
        "from django.urls import include, path\n"
        'urlpatterns = [path("sentry/", include("sentry.urls"))]\n'
    )

    # -I: no PYTHONPATH, no user site, no script or current directory on
    # sys.path; and the current directory is a temporary one anyway.
    result = subprocess.run(
        [
            str(python),
            "-I",
            str(ROOT / "tests" / "installed" / "check_installed.py"),
            str(work),
        ],
        cwd=work,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.startswith("OK"), result.stdout
    assert time.monotonic() - started < 120
