"""Helpers of the browser tests (the fixtures are in conftest.py)."""

import os
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
#: Where the browser tests save their screenshots: a temporary folder, so that a
#: test run leaves the checkout as it was.
#: ``SENTRY_SCREENSHOTS=docs/_static make test`` refreshes the documentation's.
SCREENSHOTS = Path(os.environ.get("SENTRY_SCREENSHOTS") or tempfile.gettempdir())
BROWSER_PASSWORD = "browser-pw"
#: How long to wait for something to show, in milliseconds.
WAIT = 10_000


def log_in(page, live_server, next_path="/sentry/"):
    page.goto(live_server.url + next_path)
    page.fill("input[name=username]", "jane")
    page.fill("input[name=password]", BROWSER_PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(live_server.url + next_path)


def assert_no_problems(page):
    # A script error or a Content-Security-Policy violation shows here.
    assert page.problems == []
    assert page.dialogs == []
