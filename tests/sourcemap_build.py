"""
Build, inject and upload a real minified bundle for the source-map tests.

The bundle is ``tests/sdks/js/sourcemap-app`` (with ``@sentry/browser``),
built by the locked esbuild, given debug ids and uploaded by the locked
``sentry-cli``: the tools JavaScript teams use, unchanged.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent / "sdks" / "js"
APP = JS / "sourcemap-app"
BIN = JS / "node_modules" / ".bin"
ORG = "django-sentry"


def tool(name):
    """Return the path of a locked JavaScript tool; fail when it is missing."""
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make sdks` (npm ci in tests/sdks/js)")
    return str(path)


def run(args, **kwargs):
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)
    if done.returncode:
        raise AssertionError(
            f"{' '.join(map(str, args))} failed ({done.returncode}):\n"
            f"{done.stdout}\n{done.stderr}"
        )
    return done


def build(out, dsn, release):
    """Build the app minified with a source map into ``out/dist``; return it."""
    src = out / "src"
    shutil.copytree(APP, src)
    dist = out / "dist"
    run(
        [
            tool("esbuild"),
            "src/app.js",
            "--bundle",
            "--minify",
            "--sourcemap",
            "--outfile=dist/app.min.js",
            f"--define:__DSN__={dsn!r}".replace("'", '"'),
            f"--define:__RELEASE__={release!r}".replace("'", '"'),
        ],
        cwd=out,
        env={**os.environ, "NODE_PATH": str(JS / "node_modules")},
    )
    return dist


def sentry_cli(args, url, token, cwd=None):
    """Run sentry-cli against ``url`` with ``token``; return the completed run."""
    env = {
        **os.environ,
        "SENTRY_URL": url,
        "SENTRY_AUTH_TOKEN": token,
        "SENTRY_ORG": ORG,
        # No telemetry, no update checks: nothing leaves 127.0.0.1.
        "SENTRY_DSN": "",
        "SENTRY_DISABLE_UPDATE_CHECK": "1",
        "SENTRYCLI_SKIP_DOWNLOAD": "1",
    }
    return subprocess.run(
        [tool("sentry-cli"), "--log-level=debug", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )
