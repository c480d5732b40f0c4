"""Tags on the group page, the Tags tab, and users affected."""

import html
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from sentry import pipeline
from sentry.db import get_write_alias, run_in_transaction
from sentry.models import GroupedMessage, GroupUser, Message, MessageFilterValue
from sentry.storage import store_batch
from sentry.tags import MAX_TAGS, event_values, identity_hash, search_term
from tests.complexity import assert_linear
from tests.dashboard_factories import XSS, make_group, staff_client
from tests.ingest_factories import make_key, message_event, post_events
from tests.test_concurrency import run_workers

pytestmark = pytest.mark.django_db

INDEX = reverse("sentry:index")


@pytest.fixture
def staff():
    return staff_client()


@pytest.fixture
def key():
    return make_key()


def checkout_event(**fields):
    """An SDK event of the one error these tests count, from a browser."""
    event = message_event(
        message="Checkout failed",
        release="shop@1.4.2",
        environment="production",
        transaction="/checkout",
        user={"id": "42", "email": "ann@example.com"},
        contexts={
            "browser": {"name": "Chrome", "version": "120.0"},
            "os": {"name": "Windows", "version": "10"},
            "device": {"family": "Desktop"},
            "runtime": {"name": "CPython", "version": "3.12.1"},
        },
        tags={"tenant": "acme"},
    )
    event.update(fields)
    return event


def only_group():
    return GroupedMessage.objects.get()


def sidebar(staff, group):
    """Return ``{key name: [(label, count, percent)]}`` of the group page's sidebar."""
    response = staff.get(reverse("sentry:group", args=[group.pk]))
    assert response.status_code == 200
    return {
        tag.name: [(v.label, v.times_seen, v.percent) for v in tag.values]
        for tag in response.context["sidebar_tags"]
    }


def tag_links(content):
    """Return the hrefs of the tag value links of a page."""
    return [
        html.unescape(href)
        for href in re.findall(r'<a href="([^"]+)" data-tag-value>', content)
    ]


def search_of(href):
    return parse_qs(urlsplit(href).query)["q"][0]


# --- the sidebar ---------------------------------------------------------------


def test_the_sidebar_shows_each_key_s_values_with_counts_and_shares(staff, key):
    post_events(
        staff,
        key,
        [
            checkout_event(),
            checkout_event(),
            checkout_event(environment="staging", user={"id": "7"}),
            checkout_event(
                release="shop@1.5.0",
                user={"email": "bob@example.com"},
                contexts={"browser": {"name": "Firefox", "version": "121"}},
            ),
        ],
    )

    tags = sidebar(staff, only_group())

    assert tags["environment"] == [("production", 3, 75), ("staging", 1, 25)]
    assert tags["release"] == [("shop@1.4.2", 3, 75), ("shop@1.5.0", 1, 25)]
    assert tags["transaction"] == [("/checkout", 4, 100)]
    assert tags["user.id"] == [("42", 2, 50), ("7", 1, 25)]
    assert tags["user.email"] == [
        ("ann@example.com", 2, 50),
        ("bob@example.com", 1, 25),
    ]
    assert tags["browser"] == [("Chrome 120.0", 3, 75), ("Firefox 121", 1, 25)]
    assert tags["os"] == [("Windows 10", 3, 75)]
    assert tags["device"] == [("Desktop", 3, 75)]
    assert tags["runtime"] == [("CPython 3.12.1", 3, 75)]
    assert tags["level"] == [("warning", 4, 100)]
    assert tags["server_name"] == [("web-01", 4, 100)]
    assert tags["site"] == [("shop", 4, 100)]
    assert tags["tenant"] == [("acme", 4, 100)]
    # The known keys first, in their order, then the event's own tags.
    assert list(tags)[:4] == ["release", "environment", "transaction", "user.id"]
    assert list(tags)[-1] == "tenant"


def test_an_sdk_tag_of_a_derived_name_wins_over_the_derived_value(staff, key):
    post_events(staff, key, [checkout_event(tags={"browser": "Kiosk"})])

    assert sidebar(staff, only_group())["browser"] == [("Kiosk", 1, 100)]


def test_an_sdk_tag_named_like_a_key_of_the_search_is_told_apart_from_it(staff, key):
    # Anyone with the DSN can send these: they must not pass for the event's
    # level or user, nor link to the search of the real key.
    spoof = {"level": "fatal", "user.email": "ceo@example.com", "Server": "db-9"}
    post_events(staff, key, [checkout_event(tags=spoof)])
    group = only_group()

    tags = sidebar(staff, group)
    content = staff.get(reverse("sentry:group", args=[group.pk])).content.decode()

    assert tags["level"] == [("warning", 1, 100)]
    assert tags["user.email"] == [("ann@example.com", 1, 100)]
    assert tags["tag:level"] == [("fatal", 1, 100)]
    assert tags["tag:user.email"] == [("ceo@example.com", 1, 100)]
    assert tags["tag:Server"] == [("db-9", 1, 100)]
    searches = [search_of(href) for href in tag_links(content)]
    assert 'level:"warning"' in searches
    assert not any("fatal" in q or "ceo@" in q or "db-9" in q for q in searches)
    tab = staff.get(reverse("sentry:group-tags", args=[group.pk]), {"key": "tag:level"})
    assert tab.context["key_name"] == "tag:level"


@pytest.mark.parametrize("name", ["lev\u200bel", "\u202elevel", "user.\u2060email"])
def test_an_invisible_character_does_not_hide_a_tag_named_like_a_key(staff, key, name):
    # "level" read right to left is "level": shown, each passes for the key.
    post_events(staff, key, [checkout_event(tags={name: "fatal"})])

    tags = sidebar(staff, only_group())

    assert tags["tag:" + name] == [("fatal", 1, 100)]
    assert name not in tags


def test_the_sidebar_shows_the_top_five_values_of_a_key(staff, key):
    events = [checkout_event(tags={"shard": f"s{n}"}) for n in range(8)]
    events += [checkout_event(tags={"shard": "s3"}) for _ in range(2)]
    post_events(staff, key, events)

    response = staff.get(reverse("sentry:group", args=[only_group().pk]))
    shard = next(t for t in response.context["sidebar_tags"] if t.name == "shard")

    # Ties: the value counted last first.
    assert [(v.label, v.times_seen) for v in shard.values] == [
        ("s3", 3),
        ("s7", 1),
        ("s6", 1),
        ("s5", 1),
        ("s4", 1),
    ]
    assert shard.distinct == 8
    assert "8 values" in response.content.decode()


def test_the_sidebar_counts_survive_the_occurrences_being_deleted(staff, key):
    post_events(staff, key, [checkout_event(), checkout_event(environment="dev")])

    Message.objects.all().delete()

    assert sidebar(staff, only_group())["environment"] == [
        ("dev", 1, 50),
        ("production", 1, 50),
    ]


def count_values(group, key, values, times_seen=1):
    """Add counter rows of ``values`` of ``key`` to ``group``."""
    now = timezone.now()
    MessageFilterValue.objects.bulk_create(
        MessageFilterValue(
            group=group,
            key=key,
            value=value,
            times_seen=times_seen,
            first_seen=now,
            last_seen=now,
        )
        for value in values
    )


def test_a_key_with_very_many_values_shows_its_top_five_and_says_there_are_more(
    staff,
):
    group = make_group("crowded", times_seen=5000)
    count_values(group, "url", [f"https://shop/item/{n}" for n in range(2000)])
    count_values(group, "url", ["https://shop/cart"], times_seen=900)

    response = staff.get(reverse("sentry:group", args=[group.pk]))

    (url,) = response.context["sidebar_tags"]
    assert url.values[0].label == "https://shop/cart"
    assert url.values[0].percent == 18
    assert len(url.values) == 5
    assert "more than 1,000 values" in response.content.decode()


def test_many_tag_names_never_push_the_known_keys_out_of_the_sidebar(staff):
    group = make_group("many names", times_seen=10)
    for n in range(100):
        count_values(group, f"tag:a{n:03}", ["x"])
    count_values(group, "tag:release", ["1.0"])
    count_values(group, "tag:environment", ["production"])

    tags = sidebar(staff, group)

    assert list(tags)[:2] == ["release", "environment"]
    assert len(tags) == 2 + 60


def test_each_sidebar_value_links_to_the_search_that_finds_it(staff, key):
    post_events(
        staff, key, [checkout_event(environment='pre "prod" \\ & co', user={"id": "7"})]
    )
    group = only_group()

    content = staff.get(reverse("sentry:group", args=[group.pk])).content.decode()
    links = tag_links(content)

    searches = {search_of(href): urlsplit(href).path for href in links}
    occurrences = reverse("sentry:messages", args=[group.pk])
    # Every value narrows the error's occurrences: its columns and its
    # other values (linked to each occurrence) alike...
    for search in (
        'server:"web-01"',
        'level:"warning"',
        'site:"shop"',
        'environment:"pre \\"prod\\" \\\\ & co"',
        'user.id:"7"',
        'browser:"Chrome 120.0"',
    ):
        assert searches[search] == occurrences
    # ... and finds the occurrence that has it.
    for href in links:
        page = staff.get(href).context["page"]
        assert [m.group_id for m in page] == [group.pk], href


def test_every_link_of_the_sidebar_is_a_search_the_pages_can_read(staff, key):
    post_events(
        staff,
        key,
        [
            checkout_event(
                environment='pre "prod" \\ & co',
                request={"url": "https://shop/pay?a=1&b=2", "method": "GET"},
            )
        ],
    )
    group = only_group()

    content = staff.get(reverse("sentry:group", args=[group.pk])).content.decode()

    links = tag_links(content)
    assert any(search_of(href).startswith("url:") for href in links)
    for href in links:
        response = staff.get(href)
        assert response.status_code == 200, href
        page = response.content.decode()
        assert "cannot be read" not in page, href
        if urlsplit(href).path == INDEX:
            assert [g.pk for g in response.context["page"]] == [group.pk], href
        else:
            assert len(response.context["page"]) == 1, href


def test_the_group_page_runs_the_same_queries_however_many_tags(
    staff, key, django_assert_num_queries
):
    post_events(staff, key, [checkout_event()])
    group = only_group()
    url = reverse("sentry:group", args=[group.pk])
    with django_assert_num_queries(6):
        staff.get(url)

    post_events(
        staff,
        key,
        [
            checkout_event(tags={f"k{n}": f"v{n}-{m}" for n in range(30)})
            for m in range(9)
        ],
    )

    # session, user, group, latest occurrence, trend, tags.
    with django_assert_num_queries(6):
        response = staff.get(url)
    shown = [tag.key for tag in response.context["sidebar_tags"]]
    # The known keys but the logger (the SDK sent none), and the 30 tags.
    assert "logger" not in shown
    assert len(shown) == 13 + 30


# --- the Tags tab -------------------------------------------------------------


def tags_url(group, **params):
    url = reverse("sentry:group-tags", args=[group.pk])
    if params:
        from urllib.parse import urlencode

        url += "?" + urlencode(params)
    return url


def test_the_tags_tab_lists_every_key_with_its_top_values(
    staff, key, django_assert_num_queries
):
    post_events(staff, key, [checkout_event(), checkout_event(environment="dev")])
    group = only_group()

    # session, user, group, tags.
    with django_assert_num_queries(4):
        response = staff.get(tags_url(group))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'aria-current="page">Tags</a>' in content
    names = [tag.name for tag in response.context["tags"]]
    assert names[:9] == [
        "release",
        "environment",
        "transaction",
        "user.id",
        "user.email",
        "browser",
        "os",
        "device",
        "runtime",
    ]
    environment = response.context["tags"][1]
    assert [(v.label, v.percent) for v in environment.values] == [
        ("dev", 50),
        ("production", 50),
    ]


def test_the_tags_tab_pages_through_all_values_of_a_key(
    staff, key, django_assert_num_queries
):
    events = [checkout_event(tags={"shard": f"s{n:03}"}) for n in range(120)]
    events += [checkout_event(tags={"shard": "s077"})]
    post_events(staff, key, events)
    group = only_group()

    seen = []
    url = tags_url(group, key="tag:shard")
    pages = 0
    while url:
        # session, user, group, the page of values.
        with django_assert_num_queries(4):
            response = staff.get(url)
        assert response.status_code == 200
        content = response.content.decode()
        page = response.context["page"]
        seen += [(v.label, v.times_seen) for v in page]
        for href in tag_links(content):
            assert search_of(href).startswith('shard:"s')
        pages += 1
        found = re.search(r'<a href="([^"]+)" rel="next">', content)
        url = tags_url(group) + html.unescape(found.group(1)) if found else None

    assert pages == 3
    assert seen[0] == ("s077", 2)
    assert sorted(label for label, _ in seen) == [f"s{n:03}" for n in range(120)]


def test_the_tags_tab_of_an_unknown_key_is_empty_and_a_nul_key_is_a_404(staff, key):
    post_events(staff, key, [checkout_event()])
    group = only_group()

    empty = staff.get(tags_url(group, key="tag:nothing"))
    nul = staff.get(tags_url(group, key="tag:\x00"))

    assert empty.status_code == 200
    assert "has no value of this tag" in empty.content.decode()
    assert nul.status_code == 404


def test_the_tags_tab_of_a_group_of_another_project_is_a_404(key):
    from tests.dashboard_factories import member_client

    client = member_client()
    post_events(client, key, [checkout_event()])

    response = client.get(tags_url(only_group()))

    assert response.status_code in (302, 403, 404)


# --- bounds and escaping ------------------------------------------------------


def test_hostile_tag_keys_and_values_are_escaped_on_every_page(staff, key):
    post_events(
        staff,
        key,
        [
            checkout_event(
                environment=XSS,
                tags={XSS[:30]: XSS, "ok": XSS},
                contexts={"browser": {"name": XSS, "version": XSS}},
            )
        ],
    )
    group = only_group()

    for url in (
        reverse("sentry:group", args=[group.pk]),
        tags_url(group),
        tags_url(group, key="tag:ok"),
        tags_url(group, key="tag:environment"),
    ):
        content = staff.get(url).content.decode()
        assert "<script>window.__xss" not in content, url
        assert "<img src=x" not in content, url
        assert "&lt;script&gt;window.__xss" in content, url


def test_long_keys_and_values_are_cut_to_the_columns(staff, key):
    post_events(staff, key, [checkout_event(tags={"k" * 100: "v" * 5000})])

    row = MessageFilterValue.objects.get(key__startswith="tag:k")

    assert row.key == "tag:" + "k" * 28
    assert len(row.value) == 200


def test_names_equal_once_cut_count_once_per_event():
    values = event_values(
        {
            "server_name": "web",
            "site": None,
            "url": None,
            "logger": "root",
            "level": 40,
            "data": {"tags": {"x" * 40 + "a": "same", "x" * 40 + "b": "same"}},
        }
    )

    keys = [key for key, _ in values]
    assert len(keys) == len(set(keys))
    assert ("tag:" + "x" * 28, "same") in values


def test_ten_thousand_tags_in_one_event_store_a_bounded_number_of_rows(staff, key):
    tags = {f"tag{n}": f"value {n}" for n in range(10_000)}
    post_events(staff, key, [checkout_event(tags=tags)])

    keys = set(MessageFilterValue.objects.values_list("key", flat=True))

    # The columns, the derived tags and at most MAX_TAGS tags in all.
    tag_keys = [key for key in keys if key.startswith("tag:")]
    assert len(tag_keys) == MAX_TAGS
    assert {"tag:release", "tag:environment", "tag:browser"} <= set(tag_keys)
    # The ones the SDK sent first (after the derived ones) are those counted.
    assert "tag:tag0" in tag_keys
    assert "tag:tag9999" not in tag_keys


def test_counting_an_event_s_tags_takes_linear_time():
    def make(n):
        return {
            "server_name": "web",
            "site": "shop",
            "url": "https://shop/",
            "logger": "root",
            "level": 40,
            "data": {
                "tags": {f"{'k' * 50}{i}": "v" * 300 for i in range(n)},
                "contexts": {f"c{i}": {"type": "browser"} for i in range(n)},
            },
        }

    assert_linear(event_values, make, 1000, max_n=200_000)


def test_search_terms_quote_and_escape_values():
    assert search_term("tag:environment", "prod") == 'environment:"prod"'
    assert search_term("tag:a", 'x"y\\z') == 'a:"x\\"y\\\\z"'
    assert search_term("server_name", "web") == 'server:"web"'
    assert search_term("level", "40") == 'level:"error"'
    assert search_term("user.email", "a@b.c") == 'user.email:"a@b.c"'


# --- users affected -----------------------------------------------------------


def test_users_affected_counts_each_user_once_by_id_else_email_else_username_else_ip(
    staff, key
):
    post_events(
        staff,
        key,
        [
            checkout_event(user={"id": "1", "email": "one@example.com"}),
            checkout_event(user={"id": "1", "email": "other@example.com"}),
            checkout_event(user={"email": "Two@Example.com"}),
            checkout_event(user={"email": "two@example.com", "username": "x"}),
            checkout_event(user={"username": "three"}),
            checkout_event(user={"username": "three", "ip_address": "10.0.0.9"}),
            checkout_event(user={"ip_address": "10.0.0.9"}),
            checkout_event(user={"ip_address": "10.0.0.10"}),
            checkout_event(user={}),
            checkout_event(user=None),
        ],
    )
    group = only_group()

    # 1, two@, three, 10.0.0.9, 10.0.0.10.
    assert group.users == 5
    assert GroupUser.objects.filter(group=group).count() == 5
    page = staff.get(reverse("sentry:group", args=[group.pk])).content.decode()
    assert '<dd data-users title="Distinct users affected">5</dd>' in page


def test_this_site_s_own_errors_count_the_logged_in_user(staff):
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    from sentry.client.models import client

    ann = get_user_model().objects.create_user("ann", email="ann@example.com")
    for _ in range(2):
        request = RequestFactory().get("/checkout/")
        request.user = ann
        client.create_from_text("Checkout broke", request=request, tags={"tier": "1"})

    group = only_group()
    assert group.users == 1
    assert GroupUser.objects.get().hash == identity_hash(f"id:{ann.pk}")
    tags = sidebar(staff, group)
    assert tags["user.id"] == [(str(ann.pk), 2, 100)]
    assert tags["tier"] == [("1", 2, 100)]


def test_users_are_stored_as_hashes_not_in_clear(staff, key):
    post_events(staff, key, [checkout_event(user={"email": "ann@example.com"})])

    row = GroupUser.objects.get()

    assert row.hash == identity_hash("email:ann@example.com")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {GroupUser._meta.db_table}")
        dump = repr(cursor.fetchall())
    assert "ann" not in dump


def test_an_event_sent_twice_counts_its_user_once(staff, key):
    event = checkout_event(user={"id": "5"})
    post_events(staff, key, [event])
    post_events(staff, key, [event])

    assert only_group().users == 1


def test_the_group_json_says_how_many_users_were_affected(staff, key):
    post_events(
        staff, key, [checkout_event(user={"id": "1"}), checkout_event(user={"id": "2"})]
    )
    group = only_group()

    detail = staff.get(reverse("sentry:api-group", args=[group.pk])).json()
    listing = staff.get(reverse("sentry:api-groups"), {"sort": "users"}).json()

    assert detail["users"] == 2
    assert [row["users"] for row in listing["results"]] == [2]


def test_the_group_json_lists_the_top_values_of_each_key_however_many(
    staff, django_assert_num_queries
):
    group = make_group("crowded", times_seen=5000)
    count_values(group, "url", [f"https://shop/item/{n}" for n in range(2000)])
    count_values(group, "url", ["https://shop/cart"], times_seen=900)
    count_values(group, "tag:release", ["1.0"], times_seen=5000)
    url = reverse("sentry:api-group", args=[group.pk])

    # session, user, the group, its latest occurrence, its top values.
    with django_assert_num_queries(5):
        data = staff.get(url).json()

    assert list(data["top_values"]) == ["tag:release", "url"]
    assert data["top_values"]["tag:release"] == [{"value": "1.0", "times_seen": 5000}]
    urls = data["top_values"]["url"]
    assert len(urls) == 10
    assert urls[0] == {"value": "https://shop/cart", "times_seen": 900}


def make_groups_with_users(key, client, counts, name="error"):
    """Post, for each count, an error seen by that many users."""
    events = []
    for index, count in enumerate(counts):
        events += [
            message_event(message=f"{name} {index}", user={"id": str(user)})
            for user in range(count)
        ]
    post_events(client, key, events)
    return {g.message: g for g in GroupedMessage.objects.all()}


def test_the_stream_sorts_by_users_affected_and_shows_them_on_rows(staff, key):
    groups = make_groups_with_users(key, staff, [2, 5, 1, 3])

    response = staff.get(INDEX, {"sort": "users"})

    rows = list(response.context["page"])
    assert [g.users for g in rows] == [5, 3, 2, 1]
    content = response.content.decode()
    assert '<span data-field="users">5</span> users' in content
    assert groups["error 1"].pk == rows[0].pk


def test_the_stream_by_users_runs_one_query_for_the_rows_whatever_their_number(
    staff, key, django_assert_num_queries
):
    make_groups_with_users(key, staff, [1])
    # session, user, 4 filter choices, the environments, the page, the
    # sparklines, the projects.
    with django_assert_num_queries(10):
        staff.get(INDEX, {"sort": "users"})
    make_groups_with_users(key, staff, [3] * 30, name="more")

    with django_assert_num_queries(10):
        response = staff.get(INDEX, {"sort": "users"})
    assert len(response.context["page"]) == 31


def test_the_stream_pages_through_groups_sorted_by_users(staff, key):
    make_groups_with_users(key, staff, list(range(1, 56)))

    first = staff.get(INDEX, {"sort": "users"}).context["page"]
    second = staff.get(INDEX, {"sort": "users", "after": first.next_cursor}).context[
        "page"
    ]

    counts = [g.users for g in first] + [g.users for g in second]
    assert counts == list(range(55, 0, -1))


def test_the_poll_json_carries_users_affected(staff, key):
    make_groups_with_users(key, staff, [4])

    rows = staff.get(reverse("sentry:poll")).json()["rows"]

    assert [row["users"] for row in rows] == [4]


def test_deleting_a_group_deletes_its_users(staff, key):
    make_groups_with_users(key, staff, [3, 2])

    GroupedMessage.objects.get(message="error 0").delete()

    assert GroupUser.objects.count() == 2


def test_cleanup_deletes_the_users_of_the_groups_it_deletes(staff, key):
    make_groups_with_users(key, staff, [3])
    GroupedMessage.objects.update(
        last_seen="2000-01-01T00:00:00Z", first_seen="2000-01-01T00:00:00Z"
    )
    Message.objects.update(datetime="2000-01-01T00:00:00Z")

    call_command("cleanup_sentry", days=30, verbosity=0)

    assert GroupedMessage.objects.count() == 0
    assert GroupUser.objects.count() == 0


def test_a_batch_counts_a_user_seen_twice_in_it_once():
    events = [
        pipeline.prepare({"message": "batch", "data": {"user": {"id": "9"}}})
        for _ in range(3)
    ]

    run_in_transaction(
        lambda using: store_batch(using, events), get_write_alias(Message)
    )

    assert only_group().users == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_count_each_user_exactly_once():
    # Every worker stores the same users (and some of its own) in two groups,
    # in batches whose order differs from worker to worker.
    batches, size = 6, 20
    results = run_workers("users", str(batches), str(size), str(time.time() + 2.0))

    assert sum(r["failed"] for r in results) == 0
    pids = [r["pid"] for r in results]
    for index in range(2):
        group = GroupedMessage.objects.get(message=f"users {index}")
        shared = {f"id:{n}" for n in range(batches * size) if n % 2 == index}
        own = {
            f"ip:10.0.{pid % 250}.{batch}"
            for pid in pids
            for batch in range(batches)
            if batch % 2 == index
        }
        expected = {identity_hash(identity) for identity in shared | own}
        stored = set(
            GroupUser.objects.filter(group=group).values_list("hash", flat=True)
        )
        assert stored == expected
        assert group.users == len(expected)


def test_a_user_is_stored_as_a_keyed_hash_not_one_anybody_can_recompute():
    import hashlib

    from django.test import override_settings

    identity = "ip:203.0.113.9"
    plain = hashlib.sha256(identity.encode()).hexdigest()

    stored = identity_hash(identity)
    with override_settings(SECRET_KEY="another site's key"):
        elsewhere = identity_hash(identity)

    # Every IPv4 address could be hashed in minutes: without the site's key,
    # none of them gives back what is stored.
    assert stored != plain
    assert elsewhere != stored
    assert len(stored) == 64 and int(stored, 16) >= 0
