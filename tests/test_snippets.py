"""
The set-up snippets run: each SDK the suite has takes the DSN from its own.

Python, browser JavaScript, Node.js, Go and Ruby run their snippet with the
real SDK (the ones ``make sdks`` installs) and print the DSN the SDK
configured. The PHP and Java SDKs are not in the suite: their snippets are
checked as text only (tests/test_views_setup.py).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sentry.snippets import PLATFORMS

ROOT = Path(__file__).resolve().parent.parent
JS_MODULES = ROOT / "tests" / "sdks" / "js" / "node_modules"
GOPATH = Path("/usr/share/gocode")
DSN = "http://0123456789abcdef0123456789abcdef@errors.example.com:8443/sentry/3"
SNIPPET = {platform.slug: platform.snippet(DSN) for platform in PLATFORMS}


def run(args, **kwargs):
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=120, check=False, **kwargs
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def js_program(tmp_path, name, code):
    """Write ``code`` where it finds the locked JavaScript SDKs; return its path."""
    if not (JS_MODULES / "@sentry").is_dir():
        pytest.fail(f"{JS_MODULES} is missing: run `make sdks` (npm ci)")
    (tmp_path / "node_modules").symlink_to(JS_MODULES)
    path = tmp_path / name
    path.write_text(code)
    return path


def test_the_python_snippet_configures_sentry_sdk():
    code = SNIPPET["python"] + "print(sentry_sdk.get_client().dsn)\n"

    # In a process of its own: sentry_sdk.init would patch this one's Django.
    assert run([sys.executable, "-c", code]) == DSN


def test_the_browser_snippet_configures_sentry_browser(tmp_path):
    code = SNIPPET["browser"] + "console.log(Sentry.getClient().getOptions().dsn);\n"

    assert run(["node", js_program(tmp_path, "app.mjs", code)]) == DSN


def test_the_node_snippet_configures_sentry_node(tmp_path):
    code = SNIPPET["node"] + "console.log(Sentry.getClient().getOptions().dsn);\n"

    assert run(["node", js_program(tmp_path, "instrument.js", code)]) == DSN


def test_the_go_snippet_configures_sentry_go(tmp_path):
    if not (GOPATH / "src/github.com/getsentry/sentry-go").is_dir():
        pytest.fail(
            "sentry-go is missing: "
            "apt-get install golang-github-getsentry-sentry-go-dev"
        )
    body = "\n".join("\t" + line for line in SNIPPET["go"].splitlines())
    program = tmp_path / "src" / "snippet" / "main.go"
    program.parent.mkdir(parents=True)
    program.write_text(
        "package main\n\n"
        'import (\n\t"fmt"\n\t"log"\n\t"time"\n\n'
        '\t"github.com/getsentry/sentry-go"\n)\n\n'
        "func main() {\n"
        f"{body}\n"
        "\tfmt.Println(sentry.CurrentHub().Client().Options().Dsn)\n"
        "}\n"
    )
    env = {
        **os.environ,
        # GOPATH mode, Debian's packages: nothing downloaded.
        "GOPATH": f"{tmp_path}:{GOPATH}",
        "GO111MODULE": "off",
        "GOFLAGS": "",
        "GOPROXY": "off",
    }

    assert run(["go", "run", "."], cwd=program.parent, env=env) == DSN


def test_the_ruby_snippet_configures_sentry_ruby():
    code = SNIPPET["ruby"] + "puts Sentry.configuration.dsn.to_s\n"

    assert run(["ruby", "-e", code]) == DSN


def test_the_php_and_java_snippets_quote_the_dsn():
    assert SNIPPET["php"] == f"\\Sentry\\init(['dsn' => '{DSN}']);\n"
    assert f"options.setDsn({json.dumps(DSN)});" in SNIPPET["java"]
