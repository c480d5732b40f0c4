"""Searching the stream in a real browser: a query typed in the box, a bad one."""

import pytest

from sentry.client.models import client as sentry_client
from sentry.models import GroupedMessage
from tests.browser import assert_no_problems, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def charge(card):
    raise KeyError(card)


def test_a_search_typed_in_the_box_narrows_the_stream(page, live_server, browser_staff):
    try:
        charge("4111-XXXX")
    except KeyError:
        sentry_client.create_from_exception(tags={"tenant": "acme"})
    sentry_client.create_from_text("Payment gateway timed out", level=30)
    sentry_client.create_from_text("Mail server refused connection", level=40)
    charged = GroupedMessage.objects.get(class_name="KeyError")

    log_in(page, live_server)
    assert page.locator("tr.group").count() == 3

    box = page.locator("form.filters input[name=q]")
    box.fill("tenant:acme")
    box.press("Enter")
    page.wait_for_selector(".active-filters")
    assert page.locator("tr.group").count() == 1
    assert page.locator(f"tr.group[data-id='{charged.pk}']").count() == 1

    box = page.locator("form.filters input[name=q]")
    box.fill('!level:error "gateway timed"')
    box.press("Enter")
    page.wait_for_selector("tr.group a.title:has-text('Payment gateway timed out')")
    assert page.locator("tr.group").count() == 1

    box = page.locator("form.filters input[name=q]")
    box.fill("refused environment:")
    box.press("Enter")
    alert = page.locator("[data-search-error]")
    alert.wait_for()
    assert alert.inner_text() == (
        "The search cannot be read: 'environment:' has no value; "
        "write environment:production or has:environment."
    )
    assert page.locator("tr.group").count() == 0
    assert page.locator("form.filters input[name=q]").input_value() == (
        "refused environment:"
    )
    assert_no_problems(page)
