"""
The dashboard in a real browser: Chromium driven by Playwright.

These tests need Debian's Chromium at ``/usr/bin/chromium`` (``apt-get
install chromium``); without it they fail rather than skip, so that a CI
machine missing it is noticed. They also take the screenshots the docs show:
``SENTRY_SCREENSHOTS=docs/_static`` saves them there (``docs/_static/dashboard-*.png``),
otherwise they go to a temporary folder.
"""

import datetime as dt

import pytest
from django.utils import timezone

from sentry.client.models import client as sentry_client
from sentry.models import GroupedMessage, Message
from tests.browser import BROWSER_PASSWORD, SCREENSHOTS, assert_no_problems, log_in
from tests.dashboard_factories import (
    XSS,
    count_minute,
    hostile_event_data,
    record_event,
    sdk_event_data,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = BROWSER_PASSWORD


def charge(card):
    try:
        raise KeyError(card)
    except KeyError as exc:
        raise ValueError("could not charge card") from exc


def make_errors():
    """Record a realistic set of errors, with an hour-by-hour history."""
    now = timezone.now()
    try:
        cart = {"sku": "MUG-002", "quantity": 3}  # noqa: F841 (a local to show)
        charge("4111-XXXX")
    except ValueError:
        sentry_client.create_from_exception(
            tags={"tenant": "acme"}, data={"order": 991}
        )
    chained = GroupedMessage.objects.get(class_name="ValueError")
    for message, level, logger in [
        ("Payment gateway timed out", 30, "payments"),
        ("Stock below threshold for MUG-002", 30, "shop.stock"),
        ("Nightly export skipped: no new orders", 20, "shop.export"),
        ("Mail server refused connection", 40, "mail"),
    ]:
        sentry_client.create_from_text(message, level=level, logger=logger)
    record_event(
        "could not compute ratio",
        class_name="ValueError",
        view="orders.handler",
        data=sdk_event_data(),
    )
    for group in GroupedMessage.objects.all():
        for hour in range(24):
            if (hour + group.pk) % 3:
                count_minute(
                    group,
                    now - dt.timedelta(hours=hour),
                    (hour * 3 + group.pk * 5) % 11 + 1,
                )
    GroupedMessage.objects.filter(pk=chained.pk).update(times_seen=128)
    return chained


def test_staff_log_in_filter_the_stream_and_read_an_error(
    page, live_server, browser_staff, settings
):
    settings.SENTRY_INCLUDE_PATHS = ["tests"]  # this module is the "application"
    chained = make_errors()

    log_in(page, live_server)
    assert page.locator("tr.group").count() == 6
    page.wait_for_selector("[data-live-status]:has-text('Live')")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-stream.png"))

    page.select_option("select[name=level]", "30")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector(".active-filters")
    titles = page.locator("tr.group a.title").all_inner_texts()
    assert sorted(titles) == [
        "Payment gateway timed out",
        "Stock below threshold for MUG-002",
    ]
    page.click(".chip a.clear")
    page.wait_for_selector("tr.group >> nth=5")

    page.click(f"tr.group[data-id='{chained.pk}'] a.title")
    page.wait_for_selector("h1.title:has-text('could not charge card')")
    assert "The above exception was the direct cause" in page.inner_text(".exceptions")
    frame = page.locator("details.frame.in-app", has_text="charge").first
    variables = frame.locator("details.vars")
    # The innermost frame's variables are open: the ones read first.
    assert variables.locator("table").is_visible()
    assert "4111-XXXX" in variables.inner_text()
    variables.locator("summary").click()
    assert not variables.locator("table").is_visible()
    variables.locator("summary").click()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-group.png"))
    assert_no_problems(page)


def test_the_resolve_button_works_in_place(page, live_server, browser_staff):
    group = GroupedMessage.objects.get(
        pk=Message.objects.get(
            message_id=sentry_client.create_from_text("Flaky export")
        ).group_id
    )

    log_in(page, live_server, f"/sentry/group/{group.pk}/")
    url = page.url
    page.click("[data-group] form[data-resolve] button")
    page.wait_for_selector("[data-group].is-resolved")

    assert page.url == url  # no reload: done by script
    assert page.inner_text(".status-badge") == "Resolved"
    assert page.inner_text("[data-group] [data-resolve-label]") == "Unresolve"
    group.refresh_from_db()
    assert group.status == GroupedMessage.STATUS_RESOLVED

    page.click("[data-group] form[data-resolve] button")
    page.wait_for_selector("[data-group]:not(.is-resolved)")
    group.refresh_from_db()
    assert group.status == GroupedMessage.STATUS_UNRESOLVED
    assert_no_problems(page)


def test_a_new_error_appears_through_live_updates(
    page, live_server, browser_staff, settings
):
    settings.SENTRY_POLL_INTERVAL = 0.5
    sentry_client.create_from_text("Already known")

    log_in(page, live_server)
    page.wait_for_selector("[data-live-status]:has-text('Live')")
    sentry_client.create_from_text("Brand new <b>error</b>")
    row = page.wait_for_selector("tr.group.is-new")

    assert row.inner_text().count("Brand new <b>error</b>") == 1
    assert page.locator("tr.group").count() == 2
    assert page.locator("tr.group b").count() == 0

    page.click("[data-live-toggle]")
    page.wait_for_selector("[data-live-status]:has-text('Paused')")
    sentry_client.create_from_text("While paused")
    page.wait_for_timeout(1500)
    assert page.locator("tr.group").count() == 2
    assert_no_problems(page)


def test_script_in_an_event_is_shown_as_text_and_never_runs(
    page, live_server, browser_staff
):
    message = record_event(XSS, class_name=XSS, view=XSS, data=hostile_event_data())

    log_in(page, live_server)
    page.goto(live_server.url + message.get_absolute_url())
    page.locator("details[data-frame]").first.evaluate("frame => frame.open = true")
    page.locator("details.vars").first.evaluate("vars => vars.open = true")
    page.locator("details.raw summary").click()

    assert XSS in page.inner_text("h1.title")
    assert XSS in page.inner_text("details.vars")
    assert page.locator("img[src=x]").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    page.goto(live_server.url + "/sentry/")
    page.wait_for_selector("tr.group")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert_no_problems(page)


def test_the_mute_menu_mutes_for_a_while_and_the_unmute_button_ends_it(
    page, live_server, browser_staff
):
    group = GroupedMessage.objects.get(
        pk=Message.objects.get(
            message_id=sentry_client.create_from_text("Noisy cache warning")
        ).group_id
    )

    log_in(page, live_server, f"/sentry/group/{group.pk}/")
    menu = page.locator("[data-group] details[data-mute-menu]")
    assert not menu.locator("button:has-text('For 24 hours')").is_visible()
    menu.locator("summary").click()
    menu.locator("button:has-text('For 24 hours')").click()
    page.wait_for_selector("[data-group] [data-muted]")

    group.refresh_from_db()
    assert group.is_muted
    assert dt.timedelta(hours=23) < group.muted_until - timezone.now()
    assert "Muted until" in page.inner_text("[data-group] [data-muted]")
    page.goto(live_server.url + "/sentry/")
    assert page.locator(f"tr.group[data-id='{group.pk}']").count() == 0

    page.goto(live_server.url + f"/sentry/group/{group.pk}/")
    page.click("[data-group] button[data-unmute]")
    page.wait_for_selector("[data-group] details[data-mute-menu]")
    group.refresh_from_db()
    assert not group.muted

    page.locator("[data-group] details[data-mute-menu] summary").click()
    page.fill("[data-group] input[name=count]", "5")
    page.locator("[data-group] form:has(input[name=count]) button").click()
    page.wait_for_selector("[data-group] [data-muted]")
    group.refresh_from_db()
    assert group.muted_until_times_seen == group.times_seen + 5

    page.click("nav.tabs a:has-text('History')")
    page.wait_for_selector("[data-history]")
    assert page.locator("[data-entry]").all_inner_texts()[0].startswith("Muted")
    shown = page.locator("[data-entry]").evaluate_all(
        "rows => rows.map(row => row.dataset.kind)"
    )
    assert shown == ["muted", "unmuted", "muted", "first_seen"]
    assert_no_problems(page)
