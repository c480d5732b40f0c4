"""Stepping through a group's occurrences: first/previous/next/latest, "N of M"."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tests.dashboard_factories import (
    XSS,
    make_group,
    make_message,
    minutes_ago,
    staff_client,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return staff_client()


def links(html):
    """Return ``{name: href}`` of the navigation's links on an occurrence page."""
    found = re.findall(r'<a href="([^"]*)" rel="[^"]*" data-event-link="(\w+)"', html)
    return {name: unescape(href) for href, name in found}


def position(html):
    text = re.search(r"data-position>(.*?)</span>", html, re.S).group(1)
    return re.sub(r"<[^>]+>", "", text).strip()


def occurrence_id(href):
    return urlsplit(href).path.rstrip("/").rsplit("/", 1)[1]


def test_an_occurrence_says_which_of_the_group_it_is_with_links_around_it(
    staff, django_assert_num_queries
):
    group = make_group("x")
    ids = [make_message(group, when=minutes_ago(9 - n)).message_id for n in range(5)]
    make_message(make_group("other"), when=minutes_ago(3))
    middle = reverse("sentry:message", args=[group.pk, ids[2]])

    # session, user, group, occurrence, counts, first, previous, next, latest.
    with django_assert_num_queries(9):
        html = staff.get(middle).content.decode()

    assert position(html) == "Event 3 of 5"
    found = {name: occurrence_id(href) for name, href in links(html).items()}
    assert found == {
        "first": ids[0],
        "previous": ids[1],
        "next": ids[3],
        "latest": ids[4],
    }


def test_the_first_and_the_latest_occurrence_have_no_link_beyond_them(staff):
    group = make_group("x")
    ids = [make_message(group, when=minutes_ago(9 - n)).message_id for n in range(3)]

    first = staff.get(reverse("sentry:message", args=[group.pk, ids[0]])).content
    latest = staff.get(reverse("sentry:message", args=[group.pk, ids[2]])).content

    assert position(first.decode()) == "Event 1 of 3"
    assert set(links(first.decode())) == {"next", "latest"}
    assert '<span class="disabled">« First</span>' in first.decode()
    assert position(latest.decode()) == "Event 3 of 3"
    assert set(links(latest.decode())) == {"first", "previous"}
    assert '<span class="disabled">Next ›</span>' in latest.decode()


def test_a_group_of_one_occurrence_has_no_link_at_all(staff):
    group = make_group("x")
    message = make_message(group)

    html = staff.get(message.get_absolute_url()).content.decode()

    assert position(html) == "Event 1 of 1"
    assert links(html) == {}


def test_occurrences_of_one_instant_are_each_reached_once_in_id_order(staff):
    group = make_group("x")
    when = minutes_ago(5)
    ids = [make_message(group, when=when).message_id for _ in range(4)]

    # Walk from the first by "next": every occurrence once, numbered 1..4.
    seen, url = [], reverse("sentry:message", args=[group.pk, ids[0]])
    while url:
        html = staff.get(url).content.decode()
        seen.append((occurrence_id(url), position(html)))
        url = links(html).get("next")

    assert seen == [(mid, f"Event {n} of 4") for n, mid in enumerate(ids, 1)]
    # And back by "previous" from the latest.
    html = staff.get(reverse("sentry:message", args=[group.pk, ids[3]])).content
    assert occurrence_id(links(html.decode())["previous"]) == ids[2]


def test_a_deleted_occurrence_is_not_found_and_its_neighbours_still_link(staff):
    group = make_group("x")
    messages = [make_message(group, when=minutes_ago(9 - n)) for n in range(3)]
    gone = messages[1].message_id
    messages[1].delete()

    gone_url = reverse("sentry:message", args=[group.pk, gone])
    assert staff.get(gone_url).status_code == 404
    html = staff.get(messages[0].get_absolute_url()).content.decode()
    assert position(html) == "Event 1 of 2"
    assert occurrence_id(links(html)["next"]) == messages[2].message_id


def test_the_links_keep_the_search_the_occurrence_was_found_with(
    staff, django_assert_num_queries
):
    group = make_group("x")
    web1 = []
    for n in range(6):
        message = make_message(
            group, when=minutes_ago(20 - n), server_name=f"web-{n % 2 + 1}"
        )
        if n % 2 == 0:
            web1.append(message.message_id)
    list_url = reverse("sentry:messages", args=[group.pk])
    listed = staff.get(list_url, {"q": "server:web-1"}).content.decode()
    # The list's links carry the search to the occurrence.
    first_link = unescape(re.search(r'class="when"><a href="([^"]*)"', listed)[1])
    assert parse_qs(urlsplit(first_link).query) == {"q": ["server:web-1"]}

    url = reverse("sentry:message", args=[group.pk, web1[1]])
    # The search narrows the same five queries.
    with django_assert_num_queries(9):
        html = staff.get(url, {"q": "server:web-1"}).content.decode()

    assert position(html).startswith("Event 2 of 3")
    found = links(html)
    assert {name: occurrence_id(href) for name, href in found.items()} == {
        "first": web1[0],
        "previous": web1[0],
        "next": web1[2],
        "latest": web1[2],
    }
    for href in found.values():
        assert parse_qs(urlsplit(href).query) == {"q": ["server:web-1"]}


def test_an_occurrence_outside_the_search_steps_through_the_whole_group(staff):
    group = make_group("x")
    ids = [
        make_message(group, when=minutes_ago(9 - n), server_name=f"web-{n}").message_id
        for n in range(3)
    ]

    url = reverse("sentry:message", args=[group.pk, ids[1]])
    for query in ("server:web-0", "environment:production", "level:", "(" * 300):
        html = staff.get(url, {"q": query}).content.decode()

        assert position(html) == "Event 2 of 3"
        assert all("?" not in href for href in links(html).values())


@pytest.mark.parametrize(
    "query", [XSS, 'x" onmouseover="alert(1)"', "x&after=1#frag", "a\"'<>&%20"]
)
def test_a_hostile_search_stays_one_escaped_parameter_of_the_links(staff, query):
    # Every occurrence matches the search, so the links keep it.
    group = make_group(query)
    messages = [
        make_message(group, when=minutes_ago(9 - n), message=query) for n in range(3)
    ]

    response = staff.get(messages[1].get_absolute_url(), {"q": query})
    html = response.content.decode()

    assert response.status_code == 200
    assert "<script>window.__xss" not in html
    assert 'onmouseover="alert' not in html
    found = links(html)
    assert set(found) == {"first", "previous", "next", "latest"}
    for href in found.values():
        assert parse_qs(urlsplit(href).query) == {"q": [query]}
        assert "#" not in href


def test_the_shortcuts_are_named_on_the_links(staff):
    group = make_group("x")
    messages = [make_message(group, when=minutes_ago(9 - n)) for n in range(3)]

    html = staff.get(messages[1].get_absolute_url()).content.decode()

    assert 'title="The next older occurrence (j or ←)"' in html
    assert 'title="The next newer occurrence (k or →)"' in html


def test_a_search_s_matches_are_counted_up_to_a_cap(staff, monkeypatch):
    monkeypatch.setattr("sentry.navigation.MAX_COUNTED", 3)
    group = make_group("x")
    ids = [make_message(group, when=minutes_ago(20 - n)).message_id for n in range(6)]

    def shown(message_id, query):
        url = reverse("sentry:message", args=[group.pk, message_id])
        html = staff.get(url, {"q": query} if query else {}).content.decode()
        return position(html), {k: occurrence_id(v) for k, v in links(html).items()}

    assert shown(ids[1], "server:web-1") == (
        "Event 2 of 3+ matching",
        {"first": ids[0], "previous": ids[0], "next": ids[2], "latest": ids[5]},
    )
    assert shown(ids[4], "server:web-1")[0] == "Event 3+ of 3+ matching"
    assert shown(ids[2], "server:web-1")[0] == "Event 3 of 3+ matching"
    # The whole group is counted exactly: its counts are read from the index.
    assert shown(ids[4], "")[0] == "Event 5 of 6"
