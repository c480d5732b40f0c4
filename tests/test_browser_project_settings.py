"""The project pages in a real browser: create a project, then change its settings."""

import pytest
from django.contrib.auth.models import Permission

from sentry.models import Project
from tests.browser import assert_no_problems, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def manager(browser_staff):
    """The browser's staff user, allowed to create and change projects."""
    browser_staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_project", "change_project"])
    )
    return browser_staff


def test_create_a_project_then_set_its_limits(page, live_server, manager):
    log_in(page, live_server)
    page.click("header a[data-nav=setup]")
    page.click("a.new-project")
    page.wait_for_url(live_server.url + "/sentry/projects/new/")

    page.fill("form.project-form input[name=name]", "Billing worker")
    page.fill("form.project-form input[name=platform]", "python")
    page.click("form.project-form button[type=submit]")
    page.wait_for_selector(".notice.ok")

    assert page.url == (
        live_server.url + "/sentry/projects/billing-worker/settings/?done=created"
    )
    project = Project.objects.get(slug="billing-worker")
    assert (project.name, project.platform) == ("Billing worker", "python")

    page.fill("form.project-form input[name=rate_limit]", "120")
    page.fill("form.project-form input[name=retention_days]", "40000")
    page.click("form.project-form button[type=submit]")
    page.wait_for_selector(".notice.errors")
    assert "A retention is a whole number of days" in page.inner_text(".notice.errors")
    assert Project.objects.get(pk=project.pk).rate_limit is None
    # The refusal is a 400, which the browser reports on its console.
    assert [problem for problem in page.problems if "400" not in problem] == []
    page.problems.clear()

    page.fill("form.project-form input[name=retention_days]", "14")
    page.click("form.project-form button[type=submit]")
    page.wait_for_selector(".notice.ok")
    project.refresh_from_db()
    assert (project.rate_limit, project.retention_days) == (120, 14)
    assert page.inner_text(".notice.ok") == "Settings saved."

    page.click("#keys a")
    page.wait_for_url(live_server.url + f"/sentry/setup/{project.pk}/")
    page.click("a.project-settings-link")
    page.wait_for_url(live_server.url + "/sentry/projects/billing-worker/settings/")
    assert_no_problems(page)
