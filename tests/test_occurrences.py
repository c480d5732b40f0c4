"""An occurrence's release, environment and user: kept as columns, listed, searched."""

import time

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from sentry.digest import drain
from sentry.models import GroupedMessage, Message
from sentry.occurrences import event_columns
from tests.dashboard_factories import XSS, make_group, make_message, staff_client
from tests.ingest_factories import make_key, message_event, post_events

pytestmark = pytest.mark.django_db


def post_checkout_events(key=None):
    """One error from production (twice) and staging (once), as an SDK sends it."""
    key = key or make_key()
    events = [
        message_event(
            message="Checkout failed",
            timestamp=time.time() - 60 + n,
            environment=environment,
            release=release,
            user=user,
        )
        for n, (environment, release, user) in enumerate(
            [
                ("production", "shop@1.4.2", {"id": "42", "email": "jane@x.org"}),
                ("staging", "shop@1.5.0-rc1", {"username": "bob"}),
                ("production", "shop@1.4.3", {"ip_address": "203.0.113.7"}),
            ]
        )
    ]
    post_events(Client(), key, events)


def post_checkout_errors(key=None):
    post_checkout_events(key)
    return GroupedMessage.objects.get(message="Checkout failed")


def test_the_digest_keeps_each_occurrence_s_release_environment_and_user():
    group = post_checkout_errors()

    rows = group.message_set.order_by("datetime").values_list(
        "release", "environment", "user"
    )
    assert list(rows) == [
        ("shop@1.4.2", "production", "jane@x.org"),
        ("shop@1.5.0-rc1", "staging", "bob"),
        ("shop@1.4.3", "production", "203.0.113.7"),
    ]


@override_settings(SENTRY_DIGEST="worker", SENTRY_THRASHING_LIMIT=0)
def test_events_queued_and_digested_later_keep_them_too():
    post_checkout_events()
    assert not Message.objects.exists()

    drain(batch_size=100)

    group_id = GroupedMessage.objects.get(message="Checkout failed").pk
    rows = Message.objects.filter(group_id=group_id).order_by("datetime")
    assert list(rows.values_list("environment", flat=True)) == [
        "production",
        "staging",
        "production",
    ]


def test_the_occurrences_tab_lists_release_environment_and_user(
    django_assert_num_queries,
):
    group = post_checkout_errors()
    staff = staff_client()

    # session, user, group, the page: the columns cost no query.
    with django_assert_num_queries(4):
        response = staff.get(reverse("sentry:messages", args=[group.pk]))
    html = response.content.decode()

    assert "<th>Release</th><th>Environment</th><th>User</th>" in html
    assert '<td class="environment" data-label="Environment">staging</td>' in html
    assert '<td class="release" data-label="Release">shop@1.5.0-rc1</td>' in html
    assert '<td class="user" data-label="User">jane@x.org</td>' in html


def test_one_error_s_occurrences_are_searched_by_environment_and_release():
    key = make_key()
    group = post_checkout_errors(key)
    # Another error of the same environment is not among this one's.
    post_events(Client(), key, [message_event(message="Other", environment="staging")])
    staff = staff_client()
    url = reverse("sentry:messages", args=[group.pk])

    def listed(query):
        page = staff.get(url, {"q": query}).context["page"]
        return sorted(message.release for message in page)

    assert listed("environment:staging") == ["shop@1.5.0-rc1"]
    assert listed("environment:production") == ["shop@1.4.2", "shop@1.4.3"]
    assert listed("!environment:production release:shop@1.*") == ["shop@1.5.0-rc1"]
    assert listed("release:*rc1") == ["shop@1.5.0-rc1"]
    assert listed("environment:nowhere") == []


def test_occurrences_stored_before_the_columns_show_nothing_and_match_nothing():
    # A row from before migration 0024: its data holds them, its columns not.
    group = make_group("x")
    make_message(group, data={"environment": "staging", "release": "1.0"})
    staff = staff_client()

    response = staff.get(
        reverse("sentry:messages", args=[group.pk]), {"q": "environment:staging"}
    )

    assert list(response.context["page"]) == []


def test_hostile_values_are_cut_stored_and_escaped():
    group = make_group("x")
    make_message(group, environment=XSS, release="r" * 200, user=XSS)

    html = staff_client().get(reverse("sentry:messages", args=[group.pk])).content
    assert b"<script>window.__xss" not in html
    assert b"&lt;script&gt;window.__xss" in html


@pytest.mark.parametrize(
    "data, expected",
    [
        ({}, (None, None, None)),
        (None, (None, None, None)),
        ({"release": "  ", "environment": True, "user": "jane"}, (None, None, None)),
        ({"release": 12, "environment": 1.5}, ("12", "1.5", None)),
        ({"release": "a\x00b"}, ("a\ufffdb", None, None)),
        ({"release": "x" * 500}, ("x" * 200, None, None)),
        # The event's own tag wins, as it does for the counters.
        (
            {"environment": "prod", "tags": {"environment": "canary"}},
            (None, "canary", None),
        ),
        ({"tags": ["not", "a", "dict"], "environment": "prod"}, (None, "prod", None)),
        ({"user": {"id": 1, "username": "jo", "email": ""}}, (None, None, "jo")),
        ({"user": {"id": False, "ip_address": "::1"}}, (None, None, "::1")),
        ({"user": {"email": ["x"] * 3}}, (None, None, None)),
    ],
)
def test_event_columns_reads_what_the_counters_read(data, expected):
    columns = event_columns(data)

    assert (columns["release"], columns["environment"], columns["user"]) == expected
