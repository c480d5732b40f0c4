"""Each search operator against real events, sent through the SDK envelope endpoint."""

import datetime as dt
import time

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentry.models import GroupedMessage, Message
from sentry.search import SearchError, apply_to_groups, apply_to_occurrences, parse
from tests.ingest_factories import (
    exception_event,
    frame,
    make_key,
    message_event,
    post_events,
)
from tests.test_search import PIECES

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    return make_key()


def send(client, key, message, days_ago=0, **fields):
    """Send one message event ``days_ago`` days old through the envelope endpoint."""
    fields.setdefault("timestamp", time.time() - days_ago * 86400)
    post_events(client, key, [message_event(message, **fields)])


def found(text):
    """Return the messages of the groups that ``text`` finds."""
    groups = apply_to_groups(GroupedMessage.objects.all(), parse(text))
    return sorted(groups.values_list("message", flat=True))


def found_occurrences(text):
    occurrences = apply_to_occurrences(Message.objects.all(), parse(text))
    return sorted(occurrences.values_list("message", flat=True))


@pytest.fixture
def shop(client, key):
    """Three errors of a shop: two environments, two releases, two users."""
    send(
        client,
        key,
        "card declined",
        environment="production",
        release="shop@2.0.1",
        tags={"tenant": "acme", "region": "eu-west"},
        user={"id": "42", "email": "jane@example.com", "username": "jane"},
        server_name="web-1",
        request={"url": "https://shop.example/checkout/pay"},
        level="error",
        logger="payments",
    )
    send(
        client,
        key,
        "stock is negative",
        environment="staging",
        release="shop@1.9.0",
        tags={"tenant": "globex"},
        user={"id": "7", "email": "bob@example.org", "ip_address": "203.0.113.9"},
        server_name="web-2",
        request={"url": "https://shop.example/cart"},
        level="warning",
        logger="stock",
        days_ago=10,
    )
    send(client, key, "cron skipped", server_name="worker-1", level="info")


# --- key:value --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("environment:production", ["card declined"]),
        ("environment:staging", ["stock is negative"]),
        ("release:shop@2.0.1", ["card declined"]),
        ("tenant:globex", ["stock is negative"]),
        ('region:"eu-west"', ["card declined"]),
        ("user.id:42", ["card declined"]),
        ("user.email:bob@example.org", ["stock is negative"]),
        ("user.username:jane", ["card declined"]),
        ("user.ip:203.0.113.9", ["stock is negative"]),
        ("server:web-2", ["stock is negative"]),
        ("server_name:worker-1", ["cron skipped"]),
        ("site:shop", ["card declined", "cron skipped", "stock is negative"]),
        ("url:https://shop.example/cart", ["stock is negative"]),
        ("level:error", ["card declined"]),
        ("level:30", ["stock is negative"]),
        ("logger:stock", ["stock is negative"]),
    ],
)
def test_a_key_and_value_finds_the_errors_seen_with_it(shop, query, expected):
    assert found(query) == expected


def test_values_are_matched_exactly_and_with_their_case(shop):
    assert found("environment:prod") == []
    assert found("environment:Production") == []


def test_a_bang_finds_the_errors_never_seen_with_the_value(shop):
    assert found("!environment:production") == ["cron skipped", "stock is negative"]
    assert found("!level:error") == ["cron skipped", "stock is negative"]
    assert found("!logger:stock") == ["card declined", "cron skipped"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("release:shop@2*", ["card declined"]),
        ("release:shop@*", ["card declined", "stock is negative"]),
        ("url:*/cart", ["stock is negative"]),
        ("url:*checkout*", ["card declined"]),
        ("user.email:*@example.com", ["card declined"]),
        ("!release:shop@1*", ["card declined", "cron skipped"]),
        ("logger:pay*", ["card declined"]),
    ],
)
def test_a_star_finds_values_by_prefix_suffix_or_part(shop, query, expected):
    assert found(query) == expected


def test_wildcards_ignore_case_on_every_backend(shop):
    assert found("release:SHOP@2*") == ["card declined"]
    assert found("url:*/CART") == ["stock is negative"]
    assert found("user.email:*EXAMPLE.COM") == ["card declined"]


def test_a_quoted_star_is_a_star_not_a_wildcard(shop):
    assert found('release:"shop@*"') == []


def test_a_partial_value_treats_like_wildcards_as_text(client, key):
    send(client, key, "percent", tags={"code": "100%"})
    send(client, key, "digits", tags={"code": "1000"})

    assert found("code:100%*") == ["percent"]
    assert found("code:*_*") == []


# --- has: -----------------------------------------------------------------------------


def test_has_finds_the_errors_seen_with_any_value_of_a_key(shop):
    assert found("has:environment") == ["card declined", "stock is negative"]
    assert found("has:user.ip") == ["stock is negative"]
    assert found("has:region") == ["card declined"]
    assert found("has:url") == ["card declined", "stock is negative"]


def test_not_has_finds_the_others(shop):
    assert found("!has:environment") == ["cron skipped"]
    assert found("!has:level") == []
    assert len(found("has:logger")) == 3


# --- is: ------------------------------------------------------------------------------


def test_is_narrows_to_a_status(shop):
    GroupedMessage.objects.filter(message="cron skipped").update(status=1)

    assert found("is:resolved") == ["cron skipped"]
    assert found("is:unresolved") == ["card declined", "stock is negative"]
    assert found("!is:resolved") == ["card declined", "stock is negative"]


# --- dates ----------------------------------------------------------------------------


def test_first_and_last_seen_take_relative_dates(shop):
    assert found("firstSeen:-1h") == ["card declined", "cron skipped"]
    assert found("lastSeen:-7d") == ["card declined", "cron skipped"]
    assert found("lastSeen:+7d") == ["stock is negative"]
    assert found("firstSeen:-2w") == [
        "card declined",
        "cron skipped",
        "stock is negative",
    ]
    assert found("!firstSeen:-1h") == ["stock is negative"]


def test_first_and_last_seen_take_absolute_dates(shop):
    day = (timezone.now() - dt.timedelta(days=10)).date().isoformat()
    next_day = (timezone.now() - dt.timedelta(days=9)).date().isoformat()

    assert found(f"firstSeen:{day}") == ["stock is negative"]
    assert found(f"lastSeen:<{day}") == []
    assert found(f"lastSeen:>{day}") == [
        "card declined",
        "cron skipped",
        "stock is negative",
    ]
    assert found(f"lastSeen:>{next_day}") == ["card declined", "cron skipped"]
    assert found(f"firstSeen:>={day}T00:00") == [
        "card declined",
        "cron skipped",
        "stock is negative",
    ]


# --- free words -----------------------------------------------------------------------


def test_free_words_find_the_message_case_insensitively(shop):
    assert found("CARD") == ["card declined"]
    assert found("declined card") == ["card declined"]
    assert found('"declined card"') == []
    assert found("card stock") == []


def test_free_words_find_the_stack_trace_type_and_culprit(client, key):
    event = exception_event()
    event["exception"]["values"][1]["stacktrace"]["frames"].append(
        frame("settle_invoice", 77, "    ledger.post(entry)")
    )
    post_events(client, key, [event])
    send(client, key, "unrelated")

    error = ["ValueError: could not compute ratio"]
    assert found("settle_invoice") == error
    assert found("ledger.post") == error
    assert found("orders.py") == error
    assert found("zerodivisionerror") == error
    assert found("settle_invoice ledger") == error
    assert found("settle_invoice nowhere") == []


def test_free_words_find_the_culprit(client, key):
    send(client, key, "slow", transaction="/api/orders/{id}/refund")
    send(client, key, "fast", transaction="/api/health")

    assert found("orders/{id}/refund") == ["slow"]


def test_every_term_must_hold(shop):
    assert found("environment:production tenant:acme card") == ["card declined"]
    assert found("environment:production tenant:globex") == []
    assert found("has:release !environment:production lastSeen:+1d") == [
        "stock is negative"
    ]


# --- occurrences ----------------------------------------------------------------------


def test_occurrences_are_narrowed_by_their_own_columns(shop):
    assert found_occurrences("server:web-1") == ["card declined"]
    assert found_occurrences("level:warning") == ["stock is negative"]
    assert found_occurrences("logger:stock") == ["stock is negative"]
    assert found_occurrences("url:*checkout*") == ["card declined"]
    assert found_occurrences("has:url") == ["card declined", "stock is negative"]
    assert found_occurrences("!has:url") == ["cron skipped"]
    assert found_occurrences("site:shop cron") == ["cron skipped"]
    assert found_occurrences("firstSeen:-1h") == ["card declined", "cron skipped"]
    assert found_occurrences("lastSeen:+7d") == ["stock is negative"]
    assert found_occurrences("DECLINED") == ["card declined"]


def test_occurrences_follow_their_group_s_status(shop):
    GroupedMessage.objects.filter(message="cron skipped").update(status=1)

    assert found_occurrences("is:resolved") == ["cron skipped"]


def test_occurrences_are_narrowed_by_their_own_release_and_environment(shop):
    assert found_occurrences("environment:staging") == ["stock is negative"]
    assert found_occurrences("environment:Staging") == []
    assert found_occurrences("!environment:production") == [
        "cron skipped",
        "stock is negative",
    ]
    assert found_occurrences("release:shop@2*") == ["card declined"]
    assert found_occurrences("release:*9.0") == ["stock is negative"]
    assert found_occurrences("has:environment") == [
        "card declined",
        "stock is negative",
    ]
    assert found_occurrences("!has:release") == ["cron skipped"]


def test_an_event_s_own_environment_tag_wins_over_its_field_on_occurrences(client, key):
    # As the counters count it: the error is then found by the same value
    # in the stream and among its occurrences.
    send(client, key, "tagged", environment="prod", tags={"environment": "canary"})

    assert found_occurrences("environment:canary") == ["tagged"]
    assert found_occurrences("environment:prod") == []
    assert found("environment:canary") == ["tagged"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tenant:acme", ["card declined"]),
        ('region:"eu-west"', ["card declined"]),
        ("!tenant:acme", ["cron skipped", "stock is negative"]),
        ("tenant:glo*", ["stock is negative"]),
        ("tenant:*BEX", ["stock is negative"]),
        ("tenant:*c*", ["card declined"]),
        ("has:tenant", ["card declined", "stock is negative"]),
        ("!has:tenant", ["cron skipped"]),
        ("user.id:42", ["card declined"]),
        ("user.email:bob@example.org", ["stock is negative"]),
        ("user.username:jane", ["card declined"]),
        ("user.ip:203.0.113.9", ["stock is negative"]),
        ("has:user.ip", ["stock is negative"]),
        ("tenant:acme user.id:42 declined", ["card declined"]),
        ("tenant:acme user.id:7", []),
    ],
)
def test_occurrences_are_narrowed_by_their_tags_and_user(shop, query, expected):
    assert found_occurrences(query) == expected


@pytest.mark.parametrize(
    ("few_values", "few_occurrences", "rare_share"),
    [
        (100, 500, 100),  # few occurrences with the value: their ids read
        (100, 0, 0),  # more, but rare among those searched: a subquery
        (100, 0, 100),  # more, and common: each occurrence checked
        (0, 500, 100),  # many values of the key: each occurrence checked
    ],
)
def test_an_occurrence_is_found_by_its_own_tags_not_its_group_s(
    client, key, monkeypatch, few_values, few_occurrences, rare_share
):
    from sentry.search import apply

    monkeypatch.setattr(apply, "FEW_VALUES", few_values)
    monkeypatch.setattr(apply, "FEW_OCCURRENCES", few_occurrences)
    monkeypatch.setattr(apply, "RARE_SHARE", rare_share)
    # One error, seen by two users with two tenants: each occurrence is
    # found by its own values, where the group's counters have both.
    for user, tenant in (("1", "acme"), ("2", "globex"), ("1", "globex")):
        send(client, key, "one error", user={"id": user}, tags={"tenant": tenant})
    send(client, key, "another error", user={"id": "2"}, tags={"tenant": "acme"})
    group = GroupedMessage.objects.get(message="one error")

    def users_of(query):
        occurrences = apply_to_occurrences(group.message_set.all(), parse(query))
        ids = sorted(m.data["user"]["id"] for m in occurrences)
        # The same with the group's own counters only (its occurrences tab).
        mine = Message.objects.filter(group_id=group.pk)
        scoped = apply_to_occurrences(mine, parse(query), group.pk)
        assert sorted(m.data["user"]["id"] for m in scoped) == ids
        return ids

    # Per error: both seen together, in each.
    assert found("user.id:2 tenant:acme") == ["another error", "one error"]
    assert users_of("user.id:2 tenant:acme") == []
    assert users_of("tenant:globex") == ["1", "2"]
    assert users_of("tenant:*BEX user.id:1") == ["1"]
    assert users_of("has:tenant") == ["1", "1", "2"]
    assert users_of("user.id:1 !tenant:globex") == ["1"]
    assert users_of("has:browser") == []
    assert users_of("tenant:initech") == []
    assert users_of("!tenant:initech") == ["1", "1", "2"]
    # Every occurrence of the error has a tenant: none is without, said
    # from the counters (and the same from the occurrences of all errors).
    assert users_of("!has:tenant") == []
    assert found_occurrences("!has:tenant") == []
    assert found_occurrences("!has:user.id") == []


# --- hostile queries ------------------------------------------------------------------


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_any_query_of_the_grammar_s_pieces_lists_or_is_refused(shop, pieces):
    try:
        query = parse("".join(pieces))
    except SearchError:
        return
    list(apply_to_groups(GroupedMessage.objects.all(), query))
    list(apply_to_occurrences(Message.objects.all(), query))
