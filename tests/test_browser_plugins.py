"""The bundled plugins on the group page, in a real browser."""

import pytest

from sentry.client.models import client as sentry_client
from sentry.models import GroupedMessage
from sentry.plugins.testing import plugin_installed
from tests.browser import SCREENSHOTS, assert_no_problems, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUNDLED = (
    "sentry.plugins.sentry_servers",
    "sentry.plugins.sentry_sites",
    "sentry.plugins.sentry_urls",
)


@plugin_installed(*BUNDLED)
def test_widgets_link_to_panels_and_urls_are_links(page, live_server, browser_staff):
    for n in range(12):
        for _ in range(12 - n):
            sentry_client.create_from_text(
                "Widget error",
                url=f"http://shop.example.com/item/{n}/",
                server_name=f"web-{n % 3}",
            )
    group = GroupedMessage.objects.get()

    log_in(page, live_server, f"/sentry/group/{group.pk}/")

    servers = page.locator("[data-plugin=servers] li")
    assert servers.count() == 3
    assert servers.first.inner_text().split() == ["30", "web-0"]
    urls = page.locator("ol[data-plugin=urls] li")
    assert urls.count() == 10
    first_link = page.locator("ol[data-plugin=urls] a").first
    assert first_link.get_attribute("href") == "http://shop.example.com/item/0/"
    assert [tab.inner_text() for tab in page.locator("nav.tabs a").all()] == [
        "Details",
        "Occurrences",
        "Tags",
        "History",
        "Servers",
        "Sites",
        "URLs",
    ]

    page.click("text=All urls")
    page.wait_for_url(f"**/group/{group.pk}/plugin/urls/")
    rows = page.locator("table[data-plugin=urls] tbody tr")
    assert rows.count() == 12
    assert rows.last.inner_text().split()[:2] == [
        "http://shop.example.com/item/11/",
        "1",
    ]
    assert page.locator("nav.tabs a.active").inner_text() == "URLs"
    page.screenshot(path=str(SCREENSHOTS / "dashboard-panel.png"))

    page.click("nav.tabs >> text=Servers")
    page.wait_for_url(f"**/group/{group.pk}/plugin/servers/")
    assert page.locator("table[data-plugin=servers] tbody tr").count() == 3
    assert_no_problems(page)
