"""Stepping through an error's occurrences in a real browser: links and j/k keys."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tests.browser import SCREENSHOTS, assert_no_problems, log_in
from tests.dashboard_factories import XSS, make_group, make_message, minutes_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def position(page):
    return page.inner_text("[data-position]").strip()


def shown_id(page):
    return page.inner_text(".panel-head h2 code")


def test_the_keys_and_links_step_through_the_occurrences(
    page, live_server, browser_staff
):
    group = make_group("Checkout failed")
    when = minutes_ago(5)
    # Two of one instant: both are reached, in id order.
    ids = [make_message(group, when=minutes_ago(9)).message_id]
    ids += [make_message(group, when=when).message_id for _ in range(2)]
    ids += [make_message(group, when=minutes_ago(1)).message_id]

    log_in(page, live_server, reverse("sentry:message", args=[group.pk, ids[3]]))
    assert position(page) == "Event 4 of 4"
    page.screenshot(path=str(SCREENSHOTS / "dashboard-event-nav.png"))

    # j goes back, k forward; the arrows too.
    for key, expected in [("j", 2), ("j", 1), ("ArrowLeft", 0), ("k", 1)]:
        page.keyboard.press(key)
        page.wait_for_function(
            "id => document.querySelector('.panel-head h2 code').textContent === id",
            arg=ids[expected],
        )
        assert position(page) == f"Event {expected + 1} of 4"

    # No occurrence before the first: j there does nothing.
    page.click("a[data-event-link='first']")
    page.wait_for_url(f"**/{ids[0]}/")
    page.keyboard.press("j")
    page.wait_for_timeout(300)
    assert shown_id(page) == ids[0]
    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"**/{ids[1]}/")

    # Typing in a search box is typing, not stepping.
    page.click(".topbar-search input")
    page.keyboard.type("jk")
    page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(300)
    assert shown_id(page) == ids[1]
    assert page.input_value(".topbar-search input") == "jk"

    page.click("a[data-event-link='latest']")
    page.wait_for_url(f"**/{ids[3]}/")
    assert_no_problems(page)


def test_an_occurrence_opened_from_a_search_steps_through_what_matches(
    page, live_server, browser_staff
):
    group = make_group("Checkout failed")
    for n in range(5):
        make_message(
            group,
            when=minutes_ago(10 - n),
            server_name="web-1" if n % 2 == 0 else "web-2",
            message=XSS if n == 2 else "Checkout failed",
        )

    log_in(page, live_server, reverse("sentry:messages", args=[group.pk]))
    page.fill(".occurrence-search input[name=q]", "server:web-1")
    page.press(".occurrence-search input[name=q]", "Enter")
    page.wait_for_url("**/messages/?q=*")
    page.click("table.occurrences tbody tr:last-child td.when a")
    page.wait_for_selector("[data-position]")
    assert position(page) == "Event 1 of 3 matching"

    page.keyboard.press("k")
    page.wait_for_function(
        "() => document.querySelector('[data-position]').textContent"
        ".startsWith('Event 2 of 3')"
    )
    assert parse_qs(urlsplit(page.url).query) == {"q": ["server:web-1"]}
    assert page.evaluate("window.__xss") is None
    page.keyboard.press("k")
    page.wait_for_function(
        "() => document.querySelector('[data-position]').textContent"
        ".startsWith('Event 3 of 3')"
    )
    assert page.locator("a[data-event-link='next']").count() == 0
    page.click("[data-position] a")
    page.wait_for_url("**/messages/?q=*")
    assert page.locator("table.occurrences tbody tr").count() == 3
    assert_no_problems(page)
