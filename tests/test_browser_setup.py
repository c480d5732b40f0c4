"""
The set-up page in a real browser: the header link, the copy buttons (the
Clipboard API, its fallback and no script at all) and the new-key form.

``SENTRY_SCREENSHOTS=docs/_static`` saves ``dashboard-setup.png`` for the docs.
"""

import pytest
from django.contrib.auth.models import Permission

from sentry.models import ProjectKey
from sentry.snippets import python_snippet
from tests.browser import SCREENSHOTS, assert_no_problems, log_in
from tests.ingest_factories import make_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def keeper(browser_staff):
    """The browser's staff user, allowed to create and change keys."""
    browser_staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_projectkey", "change_projectkey"])
    )
    return browser_staff


def open_project_page(page, live_server):
    """Log in, then reach project 1's page the way a user would: by links."""
    log_in(page, live_server)
    page.click("header a[data-nav=setup]")
    page.wait_for_url(live_server.url + "/sentry/setup/")
    page.click("table.projects >> text=default")
    page.wait_for_url(live_server.url + "/sentry/setup/1/")


def test_copy_the_dsn_and_a_snippet_then_create_a_key(page, live_server, keeper):
    key = make_key(label="shop", project_id=1)
    dsn = f"http://{key.public_key}@{live_server.url.split('//')[1]}/sentry/1"
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=live_server.url
    )

    open_project_page(page, live_server)

    assert page.input_value(f"#dsn-{key.pk}") == dsn
    page.click(f"button[data-copy='dsn-{key.pk}']")
    page.wait_for_selector(f"#key-{key.pk} .copy-status:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == dsn

    page.click("#snippet-python button[data-copy]")
    page.wait_for_selector("#snippet-python .copy-status:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == python_snippet(dsn)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-setup.png"), full_page=True)

    page.fill("form.key-form input[name=label]", "mobile <app>")
    page.fill("form.key-form input[name=rate_limit]", "30")
    page.click("form.key-form button[type=submit]")
    page.wait_for_selector(".notice.ok")

    created = ProjectKey.objects.get(label="mobile <app>")
    assert (created.project_id, created.rate_limit) == (1, 30)
    assert page.inner_text(".notice.ok") == (
        "Key “mobile <app>” created. Its DSN is below."
    )
    assert page.input_value(f"#dsn-{created.pk}") == dsn.replace(
        key.public_key, created.public_key
    )
    assert_no_problems(page)


def test_without_the_clipboard_api_the_text_is_selected(page, live_server, keeper):
    key = make_key(label="shop", project_id=1)
    # As on a page served over plain HTTP to another host: no Clipboard API.
    page.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'clipboard',"
        " {get: () => undefined})"
    )

    open_project_page(page, live_server)
    page.click(f"button[data-copy='dsn-{key.pk}']")

    status = page.locator(f"#key-{key.pk} .copy-status")
    status.wait_for()
    assert status.inner_text() in ("Copied", "Selected: press Ctrl+C to copy")
    selected = page.evaluate(
        """() => {
            const field = document.activeElement;
            const start = field.selectionStart, end = field.selectionEnd;
            return [field.id, field.value.slice(start, end)];
        }"""
    )
    assert selected == [f"dsn-{key.pk}", page.input_value(f"#dsn-{key.pk}")]

    page.click("#snippet-python button[data-copy]")
    dsn = page.input_value(f"#dsn-{key.pk}")
    # (A selection's text leaves the last line break out.)
    assert page.evaluate("window.getSelection().toString()") == (
        python_snippet(dsn).rstrip("\n")
    )
    assert_no_problems(page)


def test_without_script_the_dsn_is_there_to_select(chromium, live_server, keeper):
    key = make_key(label="shop", project_id=1)
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, "/sentry/setup/1/")

        assert page.locator("button[data-copy]").first.is_hidden()
        field = page.locator(f"#dsn-{key.pk}")
        assert field.is_visible()
        assert field.get_attribute("readonly") is not None
        assert field.input_value().startswith(f"http://{key.public_key}@")
        assert page.locator("#snippet-python pre").is_visible()
    finally:
        context.close()
