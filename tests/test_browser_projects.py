"""Projects in a real browser: the header's switcher narrows the stream."""

import datetime as dt

import pytest
from django.utils import timezone

from sentry.models import FilterValue
from tests.browser import SCREENSHOTS, WAIT, assert_no_problems, log_in
from tests.dashboard_factories import count_minute, make_group
from tests.ingest_factories import make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_services():
    shop = make_project(2, name="Shop", slug="shop")
    billing = make_project(3, name="Billing worker", slug="billing")
    groups = [
        make_group("Card declined", project=shop, logger="payments"),
        make_group("Cart is empty", project=shop, logger="cart"),
        make_group("Invoice not sent", project=billing, logger="payments"),
        make_group("Site error"),
    ]
    now = timezone.now()
    for number, group in enumerate(groups):
        for hour in range(0, 24, number + 1):
            count_minute(group, now - dt.timedelta(hours=hour), (hour + number) % 5 + 1)
    for project, logger in ((shop, "payments"), (shop, "cart"), (billing, "payments")):
        FilterValue.objects.get_or_create(project=project, key="logger", value=logger)
    return shop, billing


def row_titles(page):
    return sorted(page.locator("tr.group a.title").all_inner_texts())


def test_the_header_switcher_narrows_the_stream_to_one_project(
    page, live_server, browser_staff, settings
):
    settings.SENTRY_POLL_INTERVAL = 0.5
    shop, billing = make_services()

    log_in(page, live_server)
    assert len(row_titles(page)) == 4
    page.select_option("form.project-switcher select", "shop")
    page.wait_for_url(f"{live_server.url}/sentry/?project=shop")

    assert row_titles(page) == ["Card declined", "Cart is empty"]
    assert page.locator("tr.group a.tag.project").all_inner_texts() == ["Shop"] * 2
    assert page.input_value("form.project-switcher select") == "shop"
    # The switcher's button is for pages without script.
    assert not page.locator("[data-switch-button]").is_visible()

    # Filters keep the project; live updates bring only its new errors.
    page.select_option("form.filters select[name=logger]", "payments")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector(".active-filters")
    assert row_titles(page) == ["Card declined"]
    page.wait_for_selector("[data-live-status]:has-text('Live')")
    make_group("Refund failed", project=billing, logger="payments")
    make_group("Payment timed out", project=shop, logger="payments")
    new = page.wait_for_selector("tr.group.is-new")
    assert "Payment timed out" in new.inner_text()
    assert row_titles(page) == ["Card declined", "Payment timed out"]
    assert new.query_selector("a.tag.project").inner_text() == "Shop"
    page.screenshot(path=str(SCREENSHOTS / "dashboard-project-stream.png"))

    # A row's project opens that project's stream; "All projects" goes back.
    page.locator("tr.group a.tag.project").first.click()
    page.wait_for_url(f"{live_server.url}/sentry/?project=shop")
    page.select_option("form.project-switcher select", "")
    page.wait_for_url(f"{live_server.url}/sentry/?project=")
    assert len(row_titles(page)) == 6

    page.click("[data-nav=projects]")
    page.wait_for_url(f"{live_server.url}/sentry/projects/")
    assert page.inner_text("tr[data-project=shop] [data-field=unresolved]") == "3"
    page.screenshot(path=str(SCREENSHOTS / "dashboard-projects.png"))
    assert_no_problems(page)


def test_the_switcher_works_without_script(chromium, live_server, browser_staff):
    make_services()
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT)
        log_in(page, live_server, "/sentry/projects/")

        page.select_option("form.project-switcher select", "billing")
        page.click("[data-switch-button]")
        page.wait_for_url(f"{live_server.url}/sentry/?project=billing")

        assert row_titles(page) == ["Invoice not sent"]
    finally:
        context.close()
