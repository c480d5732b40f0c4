import logging

import pytest
from django.core.cache import cache

from tests.sdk_server import ingest_server  # noqa: F401 - a fixture for tests/test_sdk_*.py


@pytest.fixture(autouse=True)
def _clear_cache():
    # The flood guard counts in the cache: every test starts afresh.
    from sentry.alerts import store

    cache.clear()
    # Nor may a test's alert rules, rolled back with it, outlive it in the
    # process's copy (read again only every few seconds).
    store.forget()
    yield
    cache.clear()
    store.forget()


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def sentry_errors():
    """Collect what is written to the ``sentry.errors`` logger."""
    handler = ListHandler()
    logger = logging.getLogger("sentry.errors")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


# --- the browser tests (tests/test_browser*.py) ------------------------------


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, driven by Playwright; fails (never skips) when missing."""
    import os

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: apt-get install chromium "
            "(the browser tests fail rather than skip without it)"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread; the tests'
    # own ORM calls (and the database teardown) are still synchronous code.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if before is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def page(chromium):
    """A fresh browser page that records script errors and dialogs."""
    from tests.browser import WAIT

    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.problems = []
    page.dialogs = []
    page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            page.problems.append(message.text) if message.type == "error" else None
        ),
    )
    page.on(
        "dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss())
    )
    yield page
    context.close()


@pytest.fixture
def browser_staff(django_user_model):
    """The staff user the browser tests log in as."""
    from tests.browser import BROWSER_PASSWORD

    return django_user_model.objects.create_user(
        "jane", password=BROWSER_PASSWORD, is_staff=True
    )
