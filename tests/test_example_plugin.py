"""The example project's own plugin works like the bundled ones."""

import sys
from pathlib import Path

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from sentry.client.models import client
from sentry.models import GroupedMessage
from sentry.plugins.dashboard import group_actions, group_widgets
from sentry.plugins.testing import plugin_installed

# The example project's apps live in example_project/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "example_project"))

pytestmark = pytest.mark.django_db

AGENTS = {
    "Firefox": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Chrome": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36",
    "curl": "curl/8.5.0",
}


def record_from(agent):
    request = RequestFactory().get("/cart/", HTTP_USER_AGENT=agent)
    try:
        raise KeyError("sku")
    except KeyError:
        client.create_from_exception(request=request)
    return GroupedMessage.objects.get()


def test_user_agents_map_to_families():
    from browsers.agents import browser_family

    assert [browser_family(agent) for agent in AGENTS.values()] == list(AGENTS)
    assert browser_family(None) == "Unknown"


@plugin_installed("browsers")
def test_the_widget_and_panel_break_occurrences_down_by_browser(django_user_model):
    for _ in range(3):
        record_from(AGENTS["Firefox"])
    record_from(AGENTS["Chrome"])
    group = record_from(AGENTS["curl"])
    staff = Client()
    staff.force_login(django_user_model.objects.create_user("s", is_staff=True))

    [widget] = group_widgets(RequestFactory().get("/"), group)
    panel = staff.get(reverse("sentry:plugin-panel", args=[group.pk, "browsers"]))

    assert "Firefox (3), Chrome (1), curl (1)" in widget
    assert panel.status_code == 200
    html = panel.content.decode()
    assert '<td class="value">Firefox</td><td class="count">3</td>' in html
    assert '<span class="share-value" title="60% of the occurrences looked at">' in html


@plugin_installed("browsers")
def test_the_action_links_to_a_web_search():
    group = record_from(AGENTS["curl"])

    [(plugin, action)] = group_actions(RequestFactory().get("/"), group)

    assert plugin.slug == "browsers"
    assert action.method == "GET"
    assert action.url.startswith("https://duckduckgo.com/?q=KeyError")


@plugin_installed("browsers")
def test_the_web_search_names_the_project_s_platform():
    group = record_from(AGENTS["curl"])
    group.project.platform = "python"
    group.project.save()

    [(plugin, action)] = group_actions(RequestFactory().get("/"), group)

    assert action.url.startswith("https://duckduckgo.com/?q=python+KeyError")
