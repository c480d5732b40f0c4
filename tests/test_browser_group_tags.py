"""The group page's tags in a real browser: a value clicked opens its occurrences."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from sentry.models import GroupedMessage
from tests.browser import SCREENSHOTS, assert_no_problems, log_in
from tests.ingest_factories import make_key, message_event, post_events

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def post_checkout_errors():
    """
    Post the same error from production on web-01 (three times) and from
    staging on web-02 (once), and another error from staging.
    """
    key = make_key()
    events = [
        message_event(
            message="Checkout failed",
            environment=environment,
            server_name=server,
            release="shop@1.4.2",
            user={"id": str(n)},
            contexts={"browser": {"name": "Chrome", "version": "120.0"}},
        )
        for n, (environment, server) in enumerate(
            [("production", "web-01")] * 3 + [("staging", "web-02")]
        )
    ]
    events.append(message_event(message="Stock sync failed", environment="staging"))
    events.append(message_event(message="Mail bounced", environment="production"))
    post_events(Client(), key, events)
    return GroupedMessage.objects.get(message="Checkout failed")


def test_a_tag_value_clicked_on_the_group_page_opens_what_has_it(
    page, live_server, browser_staff
):
    group = post_checkout_errors()

    log_in(page, live_server, f"/sentry/group/{group.pk}/")
    environment = page.locator(".group-tags .tag-key", has_text="environment")
    assert environment.locator("[data-tag-value]").all_inner_texts() == [
        "production\n3 · 75%",
        "staging\n1 · 25%",
    ]
    assert page.inner_text("[data-users]") == "4"
    page.screenshot(path=str(SCREENSHOTS / "dashboard-tags.png"), full_page=True)

    # A server is kept per occurrence: the error's occurrences on it.
    servers = page.locator(".group-tags .tag-key", has_text="server_name")
    servers.locator("[data-tag-value]", has_text="web-02").click()
    page.wait_for_url(f"**/sentry/group/{group.pk}/messages/?q=*")
    assert parse_qs(urlsplit(page.url).query) == {"q": ['server:"web-02"']}
    assert page.inner_text("nav.tabs a.active") == "Occurrences"
    rows = page.locator("table.occurrences tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("td.server").inner_text() == "web-02"

    # A user is linked to each occurrence: the error's occurrences it hit.
    page.go_back()
    users = page.locator(".group-tags .tag-key", has_text="user.id")
    label = page.locator(".tag-value-label", has_text=re.compile(r"^2$"))
    users.locator("[data-tag-value]", has=label).click()
    page.wait_for_url(f"**/sentry/group/{group.pk}/messages/?q=*")
    assert parse_qs(urlsplit(page.url).query) == {"q": ['user.id:"2"']}
    rows = page.locator("table.occurrences tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("td.user").inner_text() == "2"

    # So is the browser: all four occurrences had Chrome.
    page.go_back()
    browsers = page.locator(".group-tags .tag-key", has_text="browser")
    browsers.locator("[data-tag-value]", has_text="Chrome").click()
    page.wait_for_url(f"**/sentry/group/{group.pk}/messages/?q=*")
    assert page.locator("table.occurrences tbody tr").count() == 4
    assert_no_problems(page)


def test_the_tags_tab_pages_to_a_key_and_back(page, live_server, browser_staff):
    group = post_checkout_errors()

    log_in(page, live_server, f"/sentry/group/{group.pk}/")
    page.click("nav.tabs a:has-text('Tags')")
    page.wait_for_selector(".group-tags-all")
    page.click(".group-tags-all h3 a:text-is('user.id')")
    page.wait_for_selector(".group-tag")

    assert page.locator(".group-tag [data-tag-value]").count() == 4
    page.click(".group-tag a:has-text('All tags')")
    page.wait_for_selector(".group-tags-all")
    assert_no_problems(page)
