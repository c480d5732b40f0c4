"""The JSON API's index page: every endpoint the API serves, and the feeds."""

import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from sentry.api import urls as api_urls
from tests.dashboard_factories import staff_client

pytestmark = pytest.mark.django_db

INDEX = "/sentry/api/v1/"


def test_the_index_lists_every_endpoint_of_the_api_with_its_method_and_scope():
    html = staff_client().get(INDEX).content.decode()

    for pattern in api_urls.urlpatterns:
        route = re.sub(r"<[a-z_]+:([a-z_]+)>", r"<\1>", str(pattern.pattern))
        assert (
            f"/sentry/api/v1/{route}".replace("<", "&lt;").replace(">", "&gt;") in html
        ), route
    assert html.count("<code>GET</code>") == 5
    assert html.count("<code>POST</code>") == 5
    assert "<code>event:write</code>" in html
    # The list endpoint is a link (a browser with a session can follow it).
    assert '<a href="/sentry/api/v1/groups/">' in html


def test_the_index_links_the_feeds():
    html = staff_client().get(reverse("sentry:api-index")).content.decode()

    assert f'<a href="{reverse("sentry:feed-groups")}">' in html
    assert f'<a href="{reverse("sentry:feed-messages")}">' in html


def test_the_index_needs_the_dashboards_access():
    response = Client().get(INDEX)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sentry:login"))


@override_settings(SENTRY_PUBLIC=True)
def test_a_public_dashboard_shows_the_index_to_everyone():
    assert Client().get(INDEX).status_code == 200
