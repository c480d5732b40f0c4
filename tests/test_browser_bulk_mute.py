"""Muting from the stream in a real browser: the bulk Mute menu and the badge."""

import pytest

from sentry.models import GroupedMessage
from tests.browser import SCREENSHOTS, assert_no_problems, log_in
from tests.dashboard_factories import make_group

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row(page, group):
    return page.locator(f"tr.group[data-id='{group.pk}']")


def test_the_stream_mutes_the_selected_errors_until_seen_again_and_badges_them(
    page, live_server, browser_staff
):
    noisy = make_group("Cache miss storm", times_seen=10)
    chatty = make_group("Retrying upstream", times_seen=3)
    kept = make_group("Checkout failed")

    log_in(page, live_server)
    row(page, noisy).locator("input[data-select]").check()
    row(page, chatty).locator("input[data-select]").check()
    menu = page.locator("details[data-bulk-mute]")
    assert not menu.locator("input[name=count]").is_visible()
    menu.locator("summary").click()
    page.fill("[data-bulk-mute-count]", "5")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-bulk-mute.png"))
    menu.locator("button[value='mute-selected']").click()
    page.wait_for_selector(f"tr.group[data-id='{kept.pk}']")

    # Gone from the default stream; the muted ones show their badge.
    assert row(page, noisy).count() == 0 and row(page, chatty).count() == 0
    assert not row(page, kept).locator("[data-field='muted']").is_visible()
    page.goto(live_server.url + "/sentry/?q=is:muted")
    badge = row(page, noisy).locator("[data-field='muted']")
    assert badge.is_visible()
    assert badge.inner_text() == "muted"
    assert badge.get_attribute("title") == "Muted until seen 15 times"
    assert (
        row(page, chatty).locator("[data-field='muted']").get_attribute("title")
        == "Muted until seen 8 times"
    )
    assert_no_problems(page)


def test_two_conditions_at_once_are_refused_with_the_reason(
    page, live_server, browser_staff
):
    make_group("Cache miss storm")

    log_in(page, live_server)
    page.locator("details[data-bulk-mute] summary").click()
    page.select_option("[data-bulk-mute-for]", "1h")
    page.fill("[data-bulk-mute-users]", "3")
    page.click("details[data-bulk-mute] button[value='mute-all']")
    page.wait_for_selector("section.panel h1:text('Not done')")

    assert "Give one condition" in page.inner_text("section.panel")
    assert not GroupedMessage.objects.filter(muted=True).exists()
    assert "changes at most 10,000 errors" not in page.content()
    page.go_back()
    assert "“All matching” changes at most 10,000 errors at once." in page.inner_text(
        "form[data-bulk]"
    )
