"""Resolving in a release, and the releases page, in a real browser."""

import pytest

from sentry import pipeline
from sentry.models import GroupedMessage
from tests.browser import assert_no_problems, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def record(release, message="Basket total is negative"):
    event = {"message": message, "data": {"release": release}}
    pipeline.record(pipeline.prepare(event, shaped=True))


def test_the_resolve_menu_resolves_in_the_next_release_and_in_a_named_one(
    page, live_server, browser_staff
):
    record("shop@1.0.0")
    record("shop@1.1.0")
    group = GroupedMessage.objects.get()

    log_in(page, live_server, f"/sentry/group/{group.pk}/")
    assert page.inner_text("[data-first-release]") == "shop@1.0.0"
    assert page.inner_text("[data-last-release]") == "shop@1.1.0"
    assert "shop@1.1.0" in page.inner_text("[data-group-releases]")
    menu = page.locator("[data-group] details[data-resolve-menu]")
    assert not menu.locator("[data-resolve-next]").is_visible()
    menu.locator("summary").click()
    menu.locator("[data-resolve-next]").click()
    page.wait_for_selector("[data-group] [data-resolved-in]")

    group.refresh_from_db()
    assert (group.resolved_in_release, group.resolved_in_next) == ("shop@1.1.0", True)
    assert "after shop@1.1.0" in page.inner_text("[data-resolved-in]")
    # An old server's event does not reopen it.
    record("shop@1.0.0")
    page.reload()
    assert page.locator("[data-group] [data-resolved-in]").is_visible()

    # Unresolved in place (JavaScript): the note goes, the menu comes back.
    page.click("[data-group] form[data-resolve] button")
    page.wait_for_selector("[data-group] [data-resolved-in]", state="hidden")
    assert menu.is_visible()
    menu.locator("summary").click()
    menu.locator("input[name=release]").fill("shop@2.0.0")
    menu.locator("[data-resolve-release]").click()
    page.wait_for_selector("[data-group] [data-resolved-in]")
    group.refresh_from_db()
    assert (group.resolved_in_release, group.resolved_in_next) == ("shop@2.0.0", False)

    record("shop@2.0.1")
    page.goto(live_server.url + "/sentry/projects/default/releases/")
    rows = page.locator("[data-releases] tr[data-release]")
    assert rows.evaluate_all("rows => rows.map(row => row.dataset.release)") == [
        "shop@2.0.1",
        "shop@2.0.0",
        "shop@1.1.0",
        "shop@1.0.0",
    ]
    regressed = page.locator("tr[data-release='shop@2.0.1'] [data-field=regressed]")
    assert "Basket total is negative" in regressed.inner_text()
    page.click("tr[data-release='shop@1.0.0'] a[data-stream-link]")
    page.wait_for_selector("tr.group")
    assert 'release:"shop@1.0.0"' in page.input_value("input[name=q]")
    assert_no_problems(page)


def test_the_environment_selector_is_remembered_across_visits(
    page, live_server, browser_staff
):
    for message, environment in (("Cart lost", "production"), ("Seed", "staging")):
        event = {"message": message, "data": {"environment": environment}}
        pipeline.record(pipeline.prepare(event, shaped=True))

    log_in(page, live_server, "/sentry/")
    page.select_option("select[data-environment-selector]", "production")
    page.click("form[data-filters] button[type=submit]")
    page.wait_for_url("**environment=production**")
    assert page.locator("tr.group .title").all_inner_texts() == ["Cart lost"]

    page.goto(live_server.url + "/sentry/")
    assert page.locator("tr.group .title").all_inner_texts() == ["Cart lost"]
    selected = page.input_value("select[data-environment-selector]")
    assert selected == "production"

    page.click("a.clear-all")
    page.wait_for_selector("tr.group >> text=Seed")
    page.goto(live_server.url + "/sentry/")
    assert len(page.locator("tr.group").all()) == 2
    assert_no_problems(page)
