"""
The JavaScript SDKs the real-SDK tests drive (``tests/sdks/js``).

The packages are pinned in ``tests/sdks/js/package-lock.json`` and installed
by ``make sdks``; a missing one fails the test with that advice, never skips.
"""

import json
import shutil
import subprocess

import pytest

from tests.processes import ROOT

JS_DIR = ROOT / "tests" / "sdks" / "js"
MODULES = JS_DIR / "node_modules"


def require(*packages):
    """Return the path of ``node``; fail loudly if it or a package is missing."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: install Node.js, then run `make sdks`")
    for package in packages:
        if not (MODULES / package / "package.json").exists():
            pytest.fail(
                f"{package} is missing from {MODULES}: run `make sdks` "
                "(npm ci in tests/sdks/js)"
            )
    return node


def installed_version(package):
    return json.loads((MODULES / package / "package.json").read_text())["version"]


def run_node(script, *args, timeout=60):
    """Run ``script`` of tests/sdks/js; return the JSON of its last output line."""
    node = require("@sentry/node")
    result = subprocess.run(
        [node, str(JS_DIR / script), *args],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
