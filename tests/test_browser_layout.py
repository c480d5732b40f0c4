"""
The dashboard's layout in a real browser, with values far longer than a screen.

Every dashboard page, at a laptop's window (1440 x 900) and a phone's (390 x
844), must fit its window: nothing scrolls sideways and no element reaches
past the right edge (a long URL, server name, message, logger or tag value
wraps, or is cut with the whole value on hover). The plugin panels' tables
are checked for the padding and alignment that make them readable.
``SENTRY_SCREENSHOTS=docs/_static`` saves the phone screenshots the docs show.
"""

import sys
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings

from sentry.client.models import client as sentry_client
from sentry.models import GroupedMessage, Message, MessageFilterValue
from sentry.plugins.testing import plugin_installed
from tests.browser import SCREENSHOTS, assert_no_problems, log_in
from tests.ingest_factories import make_key

# The example project's browsers plugin lives in example_project/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "example_project"))

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLUGINS = (
    "sentry.plugins.sentry_servers",
    "sentry.plugins.sentry_sites",
    "sentry.plugins.sentry_urls",
    "browsers",
)
WINDOWS = {"laptop": (1440, 900), "phone": (390, 844)}

LONG_URL = "http://shop.example.com/catalogue/" + "very-long-segment-" * 20 + "end/"
LONG_SERVER = "web-" + "frontend-eu-west-" * 8 + "1.internal.example.com"
LONG_SITE = "shop-" + "storefront" * 14
LONG_LOGGER = "shop.checkout_payment_gateway_" + "x" * 35  # 64, the most stored
LONG_MESSAGE = "Card declined by the payment gateway for basket " + ", ".join(
    f"SKU-{n:04d}" for n in range(60)
)
LONG_TAG = "tenant-" + "0123456789abcdef" * 16
AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

#: Elements that reach past the window's right edge, drawn where they show: an
#: element inside a box that scrolls or clips (a code block) counts only up to
#: that box's edge.
OVERFLOWING = """() => {
  const width = window.innerWidth;
  const out = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    let right = box.right;
    for (let up = element.parentElement; up; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") {
        right = Math.min(right, up.getBoundingClientRect().right);
      }
    }
    if (right > width + 0.5) {
      const name = element.tagName.toLowerCase()
        + (element.className && typeof element.className === "string"
           ? "." + element.className.trim().split(/\\s+/).join(".") : "");
      out.push(`${name} reaches ${Math.round(right)}px`);
    }
  }
  return out;
}"""


def make_long_values():
    """Record errors whose every shown value is longer than a screen is wide."""
    request = RequestFactory().get(
        "/catalogue/" + "very-long-segment-" * 20, HTTP_USER_AGENT=AGENT
    )
    for _ in range(3):
        sentry_client.create_from_text(
            LONG_MESSAGE,
            logger=LONG_LOGGER,
            url=LONG_URL,
            server_name=LONG_SERVER,
            site=LONG_SITE,
            tags={"tenant": LONG_TAG},
            request=request,
        )
    sentry_client.create_from_text(
        LONG_MESSAGE, logger=LONG_LOGGER, url="/short/", server_name="web-1"
    )
    try:
        {}[LONG_TAG]
    except KeyError:
        sentry_client.create_from_exception(
            url=LONG_URL, server_name=LONG_SERVER, site=LONG_SITE, request=request
        )
    return GroupedMessage.objects.get(class_name=None)


def dashboard_pages(group):
    message = Message.objects.filter(group=group).order_by("pk").first()
    base = f"/sentry/group/{group.pk}"
    return {
        "stream": "/sentry/",
        "empty search": "/sentry/?q=nothing-matches-this",
        "group": f"{base}/",
        "occurrences": f"{base}/messages/",
        "tags": f"{base}/tags/",
        "url tag": f"{base}/tags/?key=url",
        "occurrence": f"{base}/messages/{message.message_id}/",
        **{f"{slug} panel": f"{base}/plugin/{slug}/" for slug in PLUGIN_SLUGS},
        "projects": "/sentry/projects/",
        "settings": f"/sentry/projects/{group.project.slug}/settings/",
        "setup": "/sentry/setup/",
        "project setup": "/sentry/setup/1/",
        "new project": "/sentry/projects/new/",
        "api": "/sentry/api/v1/",
        "alerts": "/sentry/alerts/",
    }


#: Alert channels and rules whose every shown value is too long for a line.
LONG_ALERTS = override_settings(
    SENTRY_ALERT_CHANNELS={
        "a-channel-name-far-too-long-" * 4: {
            "plugin": "mail",
            "to": ["someone-with-a-long-address@" + "sub." * 20 + "example.com"],
        },
        "hook": {"plugin": "webhook", "url": "https://" + "host." * 30 + "example/x"},
    },
    SENTRY_ALERT_RULES=[
        {
            "when": "new",
            "channels": ["a-channel-name-far-too-long-" * 4, "hook"],
            "release": "shop@" + "1.2.3-rc" * 20,
        }
    ],
)


PLUGIN_SLUGS = ("servers", "sites", "urls", "browsers")


def overflow(page):
    """Return what does not fit the window: the page's width and elements."""
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    width = page.evaluate("window.innerWidth")
    problems = page.evaluate(OVERFLOWING)
    if scroll_width > width:
        problems.insert(0, f"the page is {scroll_width}px wide")
    return problems


@pytest.mark.parametrize("window", WINDOWS)
@plugin_installed(*PLUGINS)
@LONG_ALERTS
def test_no_dashboard_page_is_wider_than_the_window(
    page, live_server, browser_staff, window
):
    browser_staff.is_superuser = True  # the project settings page too
    browser_staff.save()
    group = make_long_values()
    make_key(label="a key with a label far too long " * 4, project_id=1)
    width, height = WINDOWS[window]
    page.set_viewport_size({"width": width, "height": height})

    log_in(page, live_server)
    too_wide = {}
    for name, path in dashboard_pages(group).items():
        response = page.goto(live_server.url + path)
        assert response.status == 200, (name, response.status)
        problems = overflow(page)
        if problems:
            too_wide[name] = problems[:5]
        if window == "phone" and name in ("stream", "group"):
            page.screenshot(path=str(SCREENSHOTS / f"dashboard-phone-{name}.png"))

    # And the login page, logged out.
    page.context.clear_cookies()
    page.goto(live_server.url + "/sentry/login/")
    if overflow(page):
        too_wide["login"] = overflow(page)[:5]

    assert too_wide == {}, "\n".join(f"{k}: {v}" for k, v in too_wide.items())
    assert_no_problems(page)


#: For each cell of a panel table: its padding, alignment, and whether its
#: content stays inside its padding box (nothing runs into the next column).
CELLS = """table => [...table.querySelectorAll("th, td")].map(cell => {
  const style = getComputedStyle(cell);
  const box = cell.getBoundingClientRect();
  const left = box.left + parseFloat(style.paddingLeft) - 0.5;
  const right = box.right - parseFloat(style.paddingRight) + 0.5;
  const spills = [...cell.querySelectorAll("*")].some(inner => {
    const r = inner.getBoundingClientRect();
    return r.width > 0 && (r.left < left || r.right > right);
  });
  return {
    text: cell.innerText.trim().slice(0, 40),
    kind: cell.className,
    padding: [parseFloat(style.paddingLeft), parseFloat(style.paddingRight)],
    align: style.textAlign,
    spills,
  };
})"""


@pytest.mark.parametrize("window", WINDOWS)
@plugin_installed(*PLUGINS)
def test_panel_tables_are_padded_aligned_and_show_shares_and_exact_times(
    page, live_server, browser_staff, window
):
    group = make_long_values()
    width, height = WINDOWS[window]
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, live_server)

    for slug in PLUGIN_SLUGS:
        page.goto(f"{live_server.url}/sentry/group/{group.pk}/plugin/{slug}/")
        cells = page.locator(".plugin-panel table").evaluate(CELLS)
        shown = [cell for cell in cells if cell["padding"] != [0, 0] or cell["text"]]
        assert len(shown) >= 6, (slug, cells)
        for cell in shown:
            # 4 px each side: columns are at least 8 px apart.
            assert min(cell["padding"]) >= 4, (slug, cell)
            assert not cell["spills"], (slug, cell)
            if "count" in cell["kind"].split():
                assert cell["align"] == "right", (slug, cell)
        # Every value has its share of the occurrences, as a bar and a number.
        rows = page.locator(".plugin-panel tbody tr")
        assert page.locator(".plugin-panel tbody svg.share-bar").count() == (
            rows.count()
        )

    # The counters keep the first 200 characters of a value: all there is.
    stored_url = (
        MessageFilterValue.objects.filter(group=group, key="url")
        .order_by("-times_seen")[0]
        .value
    )
    assert len(stored_url) > 150
    page.goto(f"{live_server.url}/sentry/group/{group.pk}/plugin/urls/")
    first = page.locator("table[data-plugin=urls] tbody tr").first
    assert first.locator("td.count").inner_text() == "3"
    # 3 of the group's 4 occurrences.
    assert first.locator("td.share").inner_text() == "75%"
    last_seen = first.locator("td.when time").last
    assert last_seen.inner_text() == "just now"
    assert last_seen.get_attribute("title") == last_seen.get_attribute("datetime")
    assert last_seen.get_attribute("datetime").startswith(
        group.last_seen.strftime("%Y-%m-%dT%H:%M")
    )
    # The sidebar cuts a long value to a line; its title holds all of it.
    widget_value = page.locator("ol[data-plugin=urls] .value").first
    assert widget_value.get_attribute("title") == stored_url
    assert widget_value.evaluate("e => e.scrollWidth > e.clientWidth")
    # The panel shows the whole value.
    assert first.locator("td.value").inner_text() == stored_url
    assert_no_problems(page)


@pytest.mark.parametrize("window", WINDOWS)
def test_a_search_that_matches_nothing_shows_one_aligned_notice(
    page, live_server, browser_staff, window
):
    make_long_values()
    width, height = WINDOWS[window]
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, live_server, "/sentry/?q=nothing-matches-this")

    notice = page.locator("p[data-empty]")
    assert notice.inner_text() == "No errors match."
    # No header row of an empty table over it: the notice lines up with the
    # filters above it, edge to edge.
    assert not page.locator("table.stream thead").is_visible()
    filters = page.locator("form.filters").bounding_box()
    box = notice.bounding_box()
    assert abs(box["x"] - filters["x"]) < 1
    assert abs(box["width"] - filters["width"]) < 1
    assert_no_problems(page)
