"""
Hostile release names from SDK events, on the pages that show them
(review 6): a name is attacker-controlled, and its links must lead to it.
"""

import re

import pytest
from django.urls import reverse

from sentry import pipeline
from tests.dashboard_factories import staff_client

pytestmark = pytest.mark.django_db


def record(release, message="boom"):
    event = {"message": message, "data": {"release": release}}
    return pipeline.record(pipeline.prepare(event, shaped=True))


def release_links(html):
    return re.findall(r'href="(/sentry/projects/default/releases/[^"]+)"', html)


@pytest.mark.parametrize(
    "name", ["../../../../admin", "..", ".", "a/../b", "feature/./x", "x/.."]
)
def test_a_name_with_dot_segments_links_to_no_other_page(name):
    # A browser resolves "releases/../../../../admin/" to "/admin/" before
    # asking: the link would open another page, never the release's.
    record(name)
    browser = staff_client()

    html = browser.get(reverse("sentry:releases", args=["default"])).content.decode()

    assert release_links(html) == []
    assert f'<span class="title">{name}</span>' in html


@pytest.mark.parametrize("name", ["feature/x", "1.0..2", "...", "a/.b", "x?y#z%2F"])
def test_names_with_dots_or_slashes_that_are_no_segments_keep_their_page(name):
    record(name)
    browser = staff_client()

    html = browser.get(reverse("sentry:releases", args=["default"])).content.decode()

    (link,) = release_links(html)
    assert "/./" not in link and "/../" not in link
    page = browser.get(link)
    assert page.status_code == 200
    assert page.context["release"].version == name


@pytest.mark.parametrize(
    "name", ['a"b', "a\\b\\", 'x" release:"y', "1.0 is:resolved", "café\u202e"]
)
def test_a_hostile_name_s_stream_link_finds_its_error_and_no_other(name):
    record(name)
    record("y", message="other")
    record("1.0", message="other")
    browser = staff_client()
    page = browser.get(reverse("sentry:releases", args=["default"]))
    (url,) = [r.stream_url for r in page.context["page"].items if r.version == name]

    stream = browser.get(url)

    assert stream.status_code == 200
    assert [row.message for row in stream.context["rows"]] == ["boom"]
