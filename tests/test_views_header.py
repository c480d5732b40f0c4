"""The header of every dashboard page: the product's name and its links."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, override_settings
from django.urls import reverse

from tests.dashboard_factories import staff_client

pytestmark = pytest.mark.django_db


def reader_client(django_user_model):
    """A user who may read the dashboard but is not staff."""
    reader = django_user_model.objects.create_user("reader")
    reader.user_permissions.add(Permission.objects.get(codename="view_groupedmessage"))
    browser = Client()
    browser.force_login(reader)
    return browser


def test_the_product_is_named_in_the_header_title_and_login_page():
    page = staff_client().get(reverse("sentry:index")).content.decode()
    login = Client().get(reverse("sentry:login")).content.decode()

    assert '">django-sentry</a>' in page
    assert "<title>Errors · django-sentry</title>" in page
    assert "<h1>Log in to django-sentry</h1>" in login
    assert "· django-sentry</title>" in login


def test_the_header_links_the_api_feeds_key_set_up_and_alerts():
    page = staff_client().get(reverse("sentry:index")).content.decode()

    assert f'<a href="{reverse("sentry:alerts")}" data-nav="alerts"' in page
    assert f'<a href="{reverse("sentry:api-index")}" data-nav="api"' in page
    assert f'<a href="{reverse("sentry:feed-groups")}" data-nav="feeds"' in page
    assert f'<a href="{reverse("sentry:setup")}" data-nav="setup"' in page
    assert (
        '<link rel="alternate" type="application/rss+xml" title="Unresolved errors" '
        f'href="{reverse("sentry:feed-groups")}">'
    ) in page
    assert (
        '<link rel="alternate" type="application/rss+xml" title="Latest occurrences" '
        f'href="{reverse("sentry:feed-messages")}">'
    ) in page


def test_the_feed_links_follow_the_chosen_project():
    page = staff_client().get(reverse("sentry:index"), {"project": "default"})

    assert f'href="{reverse("sentry:feed-groups")}?project=default"' in (
        page.content.decode()
    )


def test_staff_get_the_admin_link_and_other_readers_do_not(django_user_model):
    admin_link = f'<a href="{reverse("admin:index")}" data-nav="admin"'

    assert admin_link in staff_client().get(reverse("sentry:index")).content.decode()
    reader_page = reader_client(django_user_model).get(reverse("sentry:index"))
    assert reader_page.status_code == 200
    assert admin_link not in reader_page.content.decode()
    assert 'data-nav="api"' in reader_page.content.decode()


@override_settings(ROOT_URLCONF="tests.urls_without_admin")
def test_no_admin_link_when_the_site_serves_no_admin():
    page = staff_client().get("/sentry/").content.decode()

    assert page.count('data-nav="') == 5
    assert 'data-nav="admin"' not in page


@override_settings(SENTRY_PUBLIC=True)
def test_anonymous_readers_of_a_public_dashboard_get_no_links_or_feeds():
    page = Client().get(reverse("sentry:index")).content.decode()

    assert 'data-nav="' not in page
    assert "application/rss+xml" not in page
