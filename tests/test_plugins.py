"""The plugin API and the bundled servers, sites and urls plugins."""

import pytest
from django.core import checks
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from sentry.client.models import client
from sentry.models import GroupedMessage
from sentry.plugins import get_plugin, get_plugins
from sentry.plugins.dashboard import (
    group_actions,
    group_panels,
    group_widgets,
    stream_row_tags,
)
from sentry.plugins.sentry_servers.plugin import ServersPlugin
from sentry.plugins.sentry_urls.plugin import UrlsPlugin
from sentry.plugins.testing import plugin_installed
from tests.dashboard_factories import make_group
from tests.ingest_factories import make_project

pytestmark = pytest.mark.django_db

BUNDLED = (
    "sentry.plugins.sentry_servers",
    "sentry.plugins.sentry_sites",
    "sentry.plugins.sentry_urls",
)


@pytest.fixture
def staff(django_user_model):
    browser = Client()
    browser.force_login(django_user_model.objects.create_user("s", is_staff=True))
    return browser


def record(message="flaky", **kwargs):
    client.create_from_text(message, **kwargs)
    return GroupedMessage.objects.get(message=message)


def request():
    return RequestFactory().get("/sentry/")


def test_no_plugin_is_active_unless_installed():
    assert get_plugins() == []


@plugin_installed(*BUNDLED)
def test_the_installed_plugin_apps_are_the_active_plugins_in_order():
    assert [p.slug for p in get_plugins()] == ["servers", "sites", "urls"]
    assert isinstance(get_plugin("servers"), ServersPlugin)


def test_the_testing_helper_installs_for_one_block_only():
    with plugin_installed("sentry.plugins.sentry_urls"):
        assert [p.slug for p in get_plugins()] == ["urls"]
    assert get_plugins() == []


@plugin_installed("sentry.plugins.sentry_servers")
def test_the_servers_widget_shows_the_top_ten_with_exact_counts():
    for n in range(12):
        for _ in range(n + 1):
            group = record(server_name=f"web-{n:02d}")

    [widget] = group_widgets(request(), group)

    assert "Servers" in widget
    assert widget.count("<li>") == 10
    assert '<span class="count">12</span>' in widget
    assert "web-11" in widget and "web-02" in widget and "web-01" not in widget
    assert reverse("sentry:plugin-panel", args=[group.pk, "servers"]) in widget


@plugin_installed("sentry.plugins.sentry_sites")
def test_the_sites_widget():
    # (Not pytest-django's settings fixture: its teardown would restore the
    # INSTALLED_APPS of this test after the decorator has restored them.)
    with override_settings(SENTRY_SITE="shop"):
        record()
    with override_settings(SENTRY_SITE="blog"):
        group = record()

    [widget] = group_widgets(request(), group)
    assert "shop" in widget and "blog" in widget


@plugin_installed("sentry.plugins.sentry_urls")
def test_url_values_are_links_only_when_they_are_http():
    record(url="https://shop.example.com/cart/")
    group = record(url="javascript:alert(1)")

    [widget] = group_widgets(request(), group)
    assert '<a href="https://shop.example.com/cart/"' in widget
    assert 'href="javascript' not in widget
    assert "javascript:alert(1)" in widget


@plugin_installed("sentry.plugins.sentry_urls")
def test_a_panel_lists_every_value_paginated(staff):
    for n in range(60):
        group = record(url=f"http://shop/item/{n}/")
    group = record(url="http://shop/item/7/")
    url = reverse("sentry:plugin-panel", args=[group.pk, "urls"])

    first = staff.get(url)
    second = staff.get(url, {"p": 2})

    assert first.status_code == 200
    content = first.content.decode()
    assert content.count('<tr><td class="value">') == 50
    assert "Page 1 of 2" in content
    # Most seen first: item 7 was seen twice.
    assert content.index("http://shop/item/7/") < content.index("http://shop/item/0/")
    assert second.content.decode().count('<tr><td class="value">') == 10


@plugin_installed(*BUNDLED)
def test_panels_are_tabs_of_the_group_page():
    group = record()
    assert [title for title, _ in group_panels(request(), group)] == [
        "Servers",
        "Sites",
        "URLs",
    ]


def test_without_the_app_nothing_of_a_plugin_shows(staff):
    group = record()
    assert group_widgets(request(), group) == []
    assert group_panels(request(), group) == []
    response = staff.get(reverse("sentry:plugin-panel", args=[group.pk, "servers"]))
    assert response.status_code == 404


@plugin_installed("sentry.plugins.sentry_servers")
def test_panels_need_dashboard_access():
    group = record()
    url = reverse("sentry:plugin-panel", args=[group.pk, "servers"])
    assert Client().get(url).status_code == 302


@plugin_installed("tests.plugins.broken", "sentry.plugins.sentry_servers")
def test_a_broken_plugin_is_left_out_and_logged(sentry_errors, staff):
    group = record()

    widgets = group_widgets(request(), group)
    tags = stream_row_tags(request(), [group])
    actions = group_actions(request(), group)
    panel = staff.get(reverse("sentry:plugin-panel", args=[group.pk, "broken"]))

    assert len(widgets) == 1 and "Servers" in widgets[0]
    assert tags == {}
    assert actions == []
    assert panel.status_code == 200
    assert b"could not be shown" in panel.content
    failures = {r.getMessage().split(" failed in ")[1] for r in sentry_errors}
    assert failures >= {"render_widget(); left out", "get_tags(); left out"}


@plugin_installed("tests.plugins.broken")
def test_plugin_urls_are_served_under_their_slug(staff):
    response = staff.get("/sentry/plugins/broken/hello/5/")
    assert response.content == b"hello 5"
    assert staff.get("/sentry/plugins/broken/nowhere/").status_code == 404
    assert Client().get("/sentry/plugins/broken/hello/5/").status_code == 302


def test_tags_and_actions_come_from_their_hooks():
    from tests.plugins.broken.apps import ShowsTagsPlugin

    group = record()
    plugin = ShowsTagsPlugin()
    assert plugin.get_tags(request(), [group]) == {group.pk: [("seen", "1")]}
    [action] = plugin.get_actions(request(), group)
    assert action.method == "POST"


@plugin_installed("sentry.plugins.sentry_servers", "tests.plugins.duplicate")
def test_duplicate_slugs_are_a_system_check_error():
    errors = [e for e in checks.run_checks(databases=[]) if e.id == "sentry.E009"]
    assert len(errors) == 1
    assert "'servers'" in errors[0].msg


def test_a_plugin_without_a_panel_has_no_tab():
    assert UrlsPlugin().has_panel
    from sentry.plugins import Plugin

    assert not Plugin().has_panel


# --- the group's project -----------------------------------------------------------


@plugin_installed("tests.plugins.projects")
def test_every_hook_reads_the_group_s_project_without_a_query(
    staff, django_assert_num_queries
):
    make_project(2, name="Shop", slug="shop", platform="python")
    groups = [make_group(f"error {n}", project_id=2 if n % 2 else 1) for n in range(6)]
    group = groups[1]

    # As without the plugin: session, user, 4 filter choices, the
    # environments, the page, the sparklines, the projects of the header's
    # switcher.
    with django_assert_num_queries(10):
        stream = staff.get(reverse("sentry:index")).content.decode()
    # session, user, group, latest occurrence, trend, tags.
    with django_assert_num_queries(6):
        page = staff.get(group.get_absolute_url()).content.decode()
    panel = staff.get(reverse("sentry:plugin-panel", args=[group.pk, "projects"]))

    assert stream.count('<span class="tag plugin">project: Shop</span>') == 3
    assert stream.count('<span class="tag plugin">project: default</span>') == 3
    assert "Shop (SHOP-1)" in page
    assert 'href="?project=shop">All of Shop</a>' in page
    assert "In Shop, platform python" in panel.content.decode()
