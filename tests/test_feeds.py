"""RSS feeds of occurrences and unresolved errors."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from sentry import projects
from sentry.api.tokens import ApiToken
from sentry.client.models import client as sentry_client
from sentry.models import GroupedMessage, Message, Project
from tests.dashboard_factories import XSS, make_group, make_message
from tests.ingest_factories import make_project

pytestmark = pytest.mark.django_db


class ReaderView(HTMLParser):
    """What a feed reader that renders HTML would show: the tags and the text."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.text = ""
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text += data


@dataclass
class Item:
    title: str
    description: str
    title_tags: list
    description_tags: list


def items(response):
    """Return each item as a reader shows it: XML parsed, then HTML rendered."""
    assert response.status_code == 200
    channel = ET.fromstring(response.content).find("channel")
    found = []
    for item in channel.iter("item"):
        title = ReaderView(item.findtext("title"))
        description = ReaderView(item.findtext("description"))
        found.append(Item(title.text, description.text, title.tags, description.tags))
    return found


FEEDS = ["sentry:feed-messages", "sentry:feed-groups"]


@pytest.fixture
def token(django_user_model):
    user = django_user_model.objects.create_user("reader", is_staff=True)
    return ApiToken.objects.create_token(user)[1]


def test_the_occurrence_feed_lists_the_latest_with_filters(token):
    sentry_client.create_from_text("payment failed", logger="payments")
    sentry_client.create_from_text("disk <full>", logger="storage")
    url = reverse("sentry:feed-messages")

    everything = Client().get(url, {"token": token})
    payments = Client().get(url, {"token": token, "logger": "payments"})

    assert everything.status_code == 200
    assert everything["Content-Type"].startswith("application/rss+xml")
    assert b"payment failed" in everything.content
    assert "disk <full>" in [item.description for item in items(everything)]
    assert b"payment failed" in payments.content
    assert b"disk" not in payments.content


def test_the_group_feed_lists_unresolved_errors_only(token):
    sentry_client.create_from_text("still broken")
    sentry_client.create_from_text("fixed already")
    GroupedMessage.objects.filter(message="fixed already").update(status=1)

    content = Client().get(reverse("sentry:feed-groups"), {"token": token}).content

    assert b"still broken" in content
    assert b"fixed already" not in content


def test_a_staff_session_reads_the_feeds(django_user_model):
    user = django_user_model.objects.create_user("staff", is_staff=True)
    browser = Client()
    browser.force_login(user)
    assert browser.get(reverse("sentry:feed-groups")).status_code == 200


@pytest.mark.parametrize("name", ["sentry:feed-messages", "sentry:feed-groups"])
def test_feeds_refuse_anonymous_readers_and_bad_tokens(name):
    assert Client().get(reverse(name)).status_code == 403
    assert Client().get(reverse(name), {"token": "sntr_wrong"}).status_code == 403


@override_settings(SENTRY_PUBLIC=True)
def test_public_mode_opens_the_feeds():
    assert Client().get(reverse("sentry:feed-groups")).status_code == 200


@pytest.mark.parametrize("name", FEEDS)
def test_event_text_in_a_feed_renders_as_text_never_as_markup(token, name):
    sentry_client.create_from_text(XSS)
    group = make_group(f"{XSS} in a group")
    make_message(group, traceback=f"Traceback: {XSS}")

    found = items(Client().get(reverse(name), {"token": token}))

    assert len(found) == 2
    for item in found:
        assert item.title_tags == []
        assert item.description_tags == ["pre"]
        assert XSS in item.title
        assert XSS in item.description


@pytest.mark.parametrize("name", FEEDS)
def test_characters_xml_cannot_carry_are_replaced_not_a_server_error(token, name):
    # (No NUL: PostgreSQL stores none.)
    make_message(make_group("tab\tvt\x0bff\x0cesc\x1b end\ufffe"))

    [item] = items(Client().get(reverse(name), {"token": token}))

    assert "tab\tvt\ufffdff\ufffdesc\ufffd end\ufffd" in item.description


@pytest.mark.parametrize("name", FEEDS)
@pytest.mark.parametrize(
    "query",
    [
        {"level": "abc"},
        {"level": "\u00b2"},
        {"level": str(2**63)},
        {"logger": "shop\x00"},
        {"server_name": "x" * 5000},
    ],
)
def test_a_filter_value_no_error_can_have_gives_an_empty_feed(token, name, query):
    make_message(make_group("on the shop", logger="shop"))

    assert items(Client().get(reverse(name), {"token": token, **query})) == []


def test_the_occurrence_feed_filters_by_level(token):
    make_message(make_group("warned", level=30))
    make_message(make_group("failed", level=40))

    found = items(
        Client().get(reverse("sentry:feed-messages"), {"token": token, "level": "30"})
    )

    assert [item.description for item in found] == ["warned"]
    assert Message.objects.count() == 2


# --- ?project= -----------------------------------------------------------------


def test_the_feeds_narrow_to_a_project_by_its_slug(token):
    make_project(2, slug="shop")
    make_message(make_group("basket lost", project_id=2))
    make_message(make_group("queue stalled"))

    for name in FEEDS:
        shop = items(Client().get(reverse(name), {"token": token, "project": "shop"}))
        assert [item.description for item in shop] == ["basket lost"]
        every = items(Client().get(reverse(name), {"token": token}))
        assert len(every) == 2


def test_the_group_feed_titles_carry_the_short_id(token):
    make_project(2, slug="shop")
    make_group("basket lost", project_id=2, times_seen=3)

    [item] = items(Client().get(reverse("sentry:feed-groups"), {"token": token}))

    assert item.title == "SHOP-1 basket lost (3×)"


@pytest.mark.parametrize("name", FEEDS)
@pytest.mark.parametrize(
    "project", ["nope", "SHOP", "shop\x00", "shop shop", "x" * 51, ["shop", "shop"]]
)
def test_a_feed_of_a_project_that_is_not_there_is_404(token, name, project):
    make_project(2, slug="shop")

    response = Client().get(reverse(name), {"token": token, "project": project})

    assert response.status_code == 404


@pytest.mark.parametrize("name", FEEDS)
def test_a_feed_of_a_project_the_reader_may_not_see_is_404(token, name, monkeypatch):
    make_project(2, slug="shop")
    make_message(make_group("hidden", project_id=2))
    monkeypatch.setattr(
        projects, "visible_projects", lambda user: Project.objects.exclude(pk=2)
    )
    monkeypatch.setattr(
        projects, "visible_groups", lambda groups, user: groups.exclude(project_id=2)
    )

    assert (
        Client().get(reverse(name), {"token": token, "project": "shop"}).status_code
        == 404
    )
    assert items(Client().get(reverse(name), {"token": token})) == []


# --- ?q=: the search language -------------------------------------------------------


def test_the_feeds_take_the_search_language(token):
    make_message(make_group("card declined", logger="payments"))
    make_message(make_group("disk full", logger="storage"))
    make_message(make_group("fixed already", logger="payments", status=1))

    def titles(name, query):
        found = items(Client().get(reverse(name), {"token": token, "q": query}))
        return sorted(item.description for item in found)

    assert titles("sentry:feed-messages", "logger:payments") == [
        "card declined",
        "fixed already",
    ]
    assert titles("sentry:feed-messages", "card") == ["card declined"]
    assert titles("sentry:feed-groups", "logger:payments") == ["card declined"]
    assert titles("sentry:feed-groups", "is:resolved") == ["fixed already"]


@pytest.mark.parametrize("name", FEEDS)
@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (
            "environment:",
            "'environment:' has no value; "
            "write environment:production or has:environment",
        ),
        (
            "level:loud",
            "'level:loud' is not a level; "
            "use debug, info, warning, error, fatal or a number",
        ),
    ],
)
def test_a_query_that_cannot_be_read_is_a_400_saying_why(token, name, query, reason):
    response = Client().get(reverse(name), {"token": token, "q": query})

    assert response.status_code == 400
    assert response.content.decode() == f"The search cannot be read: {reason}.\n"


def test_the_occurrence_feed_narrows_by_each_occurrence_s_tags(token):
    for tenant in ("acme", "globex", "acme"):
        sentry_client.create_from_text(
            f"checkout failed for {tenant}", tags={"tenant": tenant}
        )

    found = items(
        Client().get(
            reverse("sentry:feed-messages"), {"token": token, "q": "tenant:acme"}
        )
    )

    assert [item.description for item in found] == [
        "checkout failed for acme",
        "checkout failed for acme",
    ]
