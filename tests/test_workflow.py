"""Mute and snooze, a group's history, comments: dashboard, API and storage."""

import datetime as dt
import json
import time
from html import escape

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sentry import pipeline, postprocess
from sentry.api.tokens import ApiToken
from sentry.client.models import client
from sentry.db import get_write_alias, run_in_transaction
from sentry.models import GroupActivity, GroupedMessage, Message
from sentry.plugins.testing import plugin_installed
from sentry.storage import store_batch
from sentry.workflow import comments
from tests.dashboard_factories import make_group, staff_client
from tests.plugins.recorder.apps import RecorderPlugin
from tests.test_concurrency import run_workers

pytestmark = pytest.mark.django_db

recorder = plugin_installed("tests.plugins.recorder")
INDEX = reverse("sentry:index")
BULK = reverse("sentry:bulk")


@pytest.fixture(autouse=True)
def fresh_recorder():
    RecorderPlugin.reset()
    yield
    assert postprocess.flush()
    RecorderPlugin.reset()


def calls():
    assert postprocess.flush(), "the post-processing queue did not drain"
    return RecorderPlugin.calls


def record(message="checkout failed", user=None):
    data = {"user": {"id": user}} if user else {}
    message_id = pipeline.record(
        pipeline.prepare({"message": message, "data": data}, shaped=True)
    )
    return message_id


def the_group():
    return GroupedMessage.objects.get()


def kinds(group):
    return list(
        GroupActivity.objects.filter(group=group)
        .order_by("date", "id")
        .values_list("kind", flat=True)
    )


def api_client(user, scopes=("event:read", "event:write")):
    token = ApiToken.objects.create_token(user, scopes=scopes)[1]
    return Client(headers={"Authorization": f"Bearer {token}"})


def staff_user(username="staff"):
    return get_user_model().objects.create_user(username, is_staff=True)


def logged_in(user):
    browser = Client()
    browser.force_login(user)
    return browser


def mute_url(group):
    return reverse("sentry:mute", args=[group.pk])


def post_json(api, name, group, body):
    return api.post(
        reverse(name, args=[group.pk]),
        json.dumps(body),
        content_type="application/json",
    )


def stream_ids(browser, **params):
    response = browser.get(INDEX, params)
    return {row.pk for row in response.context["rows"]}


# --- muting, from the dashboard ------------------------------------------------


def test_a_muted_error_leaves_the_default_stream_and_is_found_by_is_muted():
    record()
    group = the_group()
    staff = staff_client()
    assert stream_ids(staff) == {group.pk}

    assert staff.post(mute_url(group), {"for": "forever"}).status_code == 302

    assert stream_ids(staff) == set()
    assert stream_ids(staff, q="is:muted") == {group.pk}
    # is:unresolved is the status: muted errors are unresolved ones.
    assert stream_ids(staff, q="is:unresolved") == {group.pk}
    assert stream_ids(staff, q="is:unresolved !is:muted") == set()
    assert stream_ids(staff, status="muted") == {group.pk}
    # The seed's query keeps meaning "unresolved", muted ones included.
    assert list(GroupedMessage.objects.filter(status=0)) == [group]


def test_a_muted_error_is_counted_as_usual():
    record()
    staff_client().post(mute_url(the_group()), {})
    record()
    record()

    assert the_group().times_seen == 3
    assert the_group().is_muted


@pytest.mark.parametrize(
    ("choice", "minutes"), [("1h", 60), ("24h", 24 * 60), ("7d", 7 * 24 * 60)]
)
def test_the_mute_menus_durations_mute_until_then(choice, minutes):
    record()
    before = timezone.now()

    staff_client().post(mute_url(the_group()), {"for": choice})

    until = the_group().muted_until
    assert before + dt.timedelta(minutes=minutes) <= until
    assert until <= timezone.now() + dt.timedelta(minutes=minutes)


def test_a_mute_until_a_date_ends_then_and_the_next_event_records_it():
    record()
    group = the_group()
    then = (timezone.now() + dt.timedelta(days=2)).replace(second=0, microsecond=0)
    staff_client().post(mute_url(group), {"until": then.strftime("%Y-%m-%dT%H:%M")})
    assert the_group().muted_until == then
    # The date passes.
    past = timezone.now() - dt.timedelta(minutes=5)
    GroupedMessage.objects.update(muted_until=past)

    assert not the_group().is_muted
    assert stream_ids(staff_client("other")) == {group.pk}
    assert kinds(group) == ["first_seen", "muted"]

    record()

    assert not the_group().muted
    unmuted = GroupActivity.objects.get(group=group, kind="unmuted")
    assert unmuted.date == past
    assert unmuted.user is None


def test_a_mute_by_count_ends_with_the_nth_more_occurrence():
    record()
    group = the_group()
    staff_client().post(mute_url(group), {"count": "3"})

    record()
    record()
    assert the_group().is_muted
    third = record()

    assert not the_group().muted
    unmuted = GroupActivity.objects.get(group=group, kind="unmuted")
    assert unmuted.message_id == third
    assert unmuted.text == "Unmuted: seen 4 times"


def test_a_mute_by_count_ends_at_the_right_event_of_a_batch():
    record()
    group = the_group()
    staff_client().post(mute_url(group), {"count": "2"})
    events = [pipeline.prepare({"message": "checkout failed"}) for _ in range(4)]

    results = run_in_transaction(
        lambda using: store_batch(using, events), get_write_alias(Message)
    )

    assert [r.muted for r in results] == [True, False, False, False]
    assert [r.unmuted for r in results] == [False, True, False, False]
    unmuted = GroupActivity.objects.get(group=group, kind="unmuted")
    assert unmuted.message_id == events[1]["message_id"]


def test_a_mute_by_users_ends_when_that_many_more_users_are_affected():
    record(user="ann")
    group = the_group()
    staff_client().post(mute_url(group), {"users": "2"})

    record(user="ann")  # not a new user
    record(user="bob")
    assert the_group().is_muted
    record(user="bob")
    assert the_group().is_muted
    record(user="cid")

    assert not the_group().muted
    assert GroupActivity.objects.get(kind="unmuted").text == (
        "Unmuted: 3 users affected"
    )


def test_unmuting_from_the_dashboard_is_recorded_with_who_did_it():
    record()
    group = the_group()
    user = staff_user("ann")
    browser = logged_in(user)
    browser.post(mute_url(group), {"count": "10"})

    assert browser.post(reverse("sentry:unmute", args=[group.pk])).status_code == 302

    assert not the_group().muted
    entry = GroupActivity.objects.get(kind="unmuted")
    assert entry.user == user
    muted = GroupActivity.objects.get(kind="muted")
    assert (muted.user, muted.text) == (user, "Muted until seen 10 more times")
    assert muted.data == {"count": 10}


def test_resolving_a_muted_error_ends_its_mute_and_both_are_recorded():
    record()
    group = the_group()
    staff = staff_client()
    staff.post(mute_url(group), {})

    staff.post(reverse("sentry:resolve", args=[group.pk]))

    assert the_group().is_resolved and not the_group().muted
    assert kinds(group) == ["first_seen", "muted", "resolved"]
    # Its next event is a regression, and is heard.
    record()
    assert kinds(group) == ["first_seen", "muted", "resolved", "regressed"]


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"for": "1y"}, "Unknown duration"),
        ({"count": "ten"}, "whole number"),
        ({"count": "0"}, "from 1 to"),
        ({"until": "yesterday"}, "ISO 8601"),
        ({"until": "2001-01-01T00:00"}, "in the future"),
    ],
)
def test_a_mute_that_cannot_be_read_is_refused_and_says_why(form, reason):
    record()

    response = staff_client().post(mute_url(the_group()), form)

    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not the_group().muted


def test_the_stream_mutes_and_unmutes_selected_errors_in_bulk():
    first, second, third = make_group("a"), make_group("b"), make_group("c")
    staff = staff_client()

    response = staff.post(
        BULK,
        {"op": "mute-selected", "ids": [first.pk, second.pk], "for": "24h"},
        headers={"Accept": "application/json"},
    )

    assert response.json() == {"updated": 2, "muted": True}
    assert stream_ids(staff) == {third.pk}
    staff.post(BULK, {"op": "unmute-selected", "ids": [first.pk]})
    assert stream_ids(staff) == {first.pk, third.pk}
    assert GroupActivity.objects.filter(kind="muted").count() == 2
    assert GroupActivity.objects.filter(kind="unmuted").count() == 1


def test_the_stream_mutes_all_matching_errors():
    make_group("a")
    make_group("b")

    assert staff_client().post(BULK, {"op": "mute-all"}).status_code == 302

    assert GroupedMessage.objects.filter(muted=True).count() == 2


def bulk_json(browser, form, query=""):
    return browser.post(BULK + query, form, headers={"Accept": "application/json"})


@pytest.mark.parametrize(
    "form, column, expected",
    [
        ({"count": "5"}, "muted_until_times_seen", 7),
        ({"users": " 3 "}, "muted_until_users", 3),
        ({"for": "forever", "count": "5"}, "muted_until_times_seen", 7),
    ],
)
def test_the_stream_mutes_in_bulk_until_a_count_or_a_number_of_users(
    form, column, expected
):
    first, second = make_group("a", times_seen=2), make_group("b", times_seen=2)

    response = bulk_json(
        staff_client(), {"op": "mute-selected", "ids": [first.pk, second.pk], **form}
    )

    assert response.json() == {"updated": 2, "muted": True}
    values = GroupedMessage.objects.values_list(column, flat=True)
    assert list(values) == [expected, expected]
    texts = set(GroupActivity.objects.filter(kind="muted").values_list("text"))
    assert len(texts) == 1


def test_the_stream_mutes_all_matching_until_a_date():
    make_group("a")
    make_group("b", level=30)
    then = (timezone.now() + dt.timedelta(days=2)).replace(second=0, microsecond=0)

    response = bulk_json(
        staff_client(),
        {"op": "mute-all", "until": then.strftime("%Y-%m-%dT%H:%M")},
        query="?q=level:error",
    )

    assert response.json() == {"updated": 1, "muted": True}
    muted = GroupedMessage.objects.get(muted=True)
    assert (muted.message, muted.muted_until) == ("a", then)


@pytest.mark.parametrize(
    "form, reason",
    [
        (
            {"for": "1h", "count": "5"},
            "Give one condition: a duration, a date, a number of times or a "
            "number of users.",
        ),
        (
            {"count": "5", "users": "2"},
            "Give one condition: a duration, a date, a number of times or a "
            "number of users.",
        ),
        ({"count": "five"}, "'count' must be a whole number."),
        ({"users": "0"}, "'users' must be a whole number from 1 to 1000000000."),
        ({"until": "2001-01-01T00:00"}, "'until' must be in the future."),
        ({"for": "1y"}, "Unknown duration '1y'."),
    ],
)
def test_a_bulk_mute_that_cannot_be_read_changes_nothing_and_says_why(form, reason):
    group = make_group("a")
    staff = staff_client()

    response = bulk_json(staff, {"op": "mute-selected", "ids": [group.pk], **form})
    page = staff.post(BULK, {"op": "mute-all", **form})

    assert response.status_code == 400
    assert response.json() == {"error": reason}
    # A browser's form gets a page that says it, not JSON.
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
    assert escape(reason) in page.content.decode()
    assert not GroupedMessage.objects.filter(muted=True).exists()


@pytest.mark.parametrize("op", ["mute-all", "resolve-all", "unmute-all"])
def test_all_matching_refuses_more_errors_than_its_cap_and_changes_none(
    monkeypatch, op
):
    monkeypatch.setattr("sentry.views.actions.MAX_MATCHING", 3)
    for index in range(4):
        make_group(f"g{index}", muted=op == "unmute-all")
    staff = staff_client()
    # The default stream leaves muted errors out.
    query = "?q=is:muted" if op == "unmute-all" else ""

    response = bulk_json(staff, {"op": op}, query=query)
    page = staff.post(BULK + query, {"op": op})

    assert response.status_code == 400
    assert response.json() == {
        "error": "More than 3 errors match: nothing was changed. Narrow the search "
        "(a project, a level, a date) to at most 3 and try again."
    }
    assert page.status_code == 400
    assert "More than 3 errors match: nothing was changed." in page.content.decode()
    assert GroupActivity.objects.count() == 0
    assert GroupedMessage.objects.filter(status=0).count() == 4
    assert GroupedMessage.objects.filter(muted=True).count() == (
        4 if op == "unmute-all" else 0
    )
    # At the cap, all of them change.
    GroupedMessage.objects.filter(message="g3").delete()
    assert bulk_json(staff, {"op": op}, query=query).json()["updated"] == 3


def test_all_matching_writes_in_chunks_each_its_own_transaction(monkeypatch):
    monkeypatch.setattr("sentry.workflow.mute.CHUNK", 2)
    for index in range(5):
        make_group(f"g{index}")

    staff = staff_client()

    with CaptureQueriesContext(connection) as queries:
        response = bulk_json(staff, {"op": "mute-all", "for": "1h"})

    assert response.json() == {"updated": 5, "muted": True}
    sql = [q["sql"] for q in queries]
    updates = [q for q in sql if q.startswith('UPDATE "sentry_groupedmessage"')]
    assert [update.count(",", update.index(" IN (")) for update in updates] == [
        1,
        1,
        0,
    ]
    # Each chunk in a transaction of its own (a savepoint inside the test's).
    assert sum(q.startswith("SAVEPOINT") for q in sql) == 3
    assert sum(q.startswith("RELEASE SAVEPOINT") for q in sql) == 3
    assert GroupActivity.objects.filter(kind="muted").count() == 5
    assert GroupedMessage.objects.filter(muted=True).count() == 5


def test_the_stream_says_how_many_errors_all_matching_changes_at_most():
    make_group("a")

    html = staff_client().get(INDEX).content.decode()

    assert "“All matching” changes at most 10,000 errors at once." in html
    for name in ("for", "until", "count", "users"):
        assert f'name="{name}"' in html


def test_a_muted_row_has_a_badge_that_tells_its_condition():
    plain = make_group("plain")
    counted = make_group("counted", times_seen=4)
    staff = staff_client()
    staff.post(BULK, {"op": "mute-selected", "ids": [counted.pk], "count": "6"})
    until = timezone.now() + dt.timedelta(hours=1)
    GroupedMessage.objects.filter(pk=plain.pk).update(muted=True, muted_until=until)

    response = staff.get(INDEX, {"status": "muted"})
    html = response.content.decode()
    poll = staff.get(reverse("sentry:poll"), {"status": "muted"}).json()

    assert html.count('<span class="tag muted" data-field="muted" title=') == 2
    assert 'title="Muted until seen 10 times">muted</span>' in html
    assert f'title="Muted until {until:%Y-%m-%d %H:%M} UTC">muted</span>' in html
    assert {row["title"]: row["muted"] for row in poll["rows"]} == {
        "counted": "Muted until seen 10 times",
        "plain": f"Muted until {until:%Y-%m-%d %H:%M} UTC",
    }
    # A mute that is over shows no badge.
    GroupedMessage.objects.filter(pk=plain.pk).update(
        muted_until=timezone.now() - dt.timedelta(minutes=1)
    )
    html = staff.get(INDEX).content.decode()
    assert '<span class="tag muted" data-field="muted" hidden>muted</span>' in html
    assert staff.get(reverse("sentry:poll")).json()["rows"][0]["muted"] is None


def test_changes_need_the_change_permission():
    record()
    reader = get_user_model().objects.create_user("reader", is_staff=False)
    reader.user_permissions.add(
        *__import__(
            "django.contrib.auth.models", fromlist=["Permission"]
        ).Permission.objects.filter(codename="view_groupedmessage")
    )
    browser = logged_in(reader)

    assert browser.post(mute_url(the_group()), {}).status_code == 403
    assert not the_group().muted


WITHOUT_CSRF_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]


@override_settings(MIDDLEWARE=WITHOUT_CSRF_MIDDLEWARE)
def test_the_changes_check_csrf_even_where_the_site_has_no_csrf_middleware():
    # As the key and project forms do: the check goes with the view, not
    # with how the host project set its middleware up.
    record()
    group = the_group()
    staff = staff_user()
    note = comments.add(group.pk, staff, "mine")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    posts = [
        (mute_url(group), {}),
        (reverse("sentry:unmute", args=[group.pk]), {}),
        (reverse("sentry:group-comment", args=[group.pk]), {"text": "forged"}),
        (
            reverse("sentry:group-comment", args=[group.pk]),
            {"comment": note.pk, "delete": "1"},
        ),
        (reverse("sentry:resolve", args=[group.pk]), {}),
        (reverse("sentry:unresolve", args=[group.pk]), {}),
        (BULK, {"op": "mute-all"}),
    ]

    for url, form in posts:
        assert browser.post(url, form).status_code == 403, url

    assert not the_group().muted
    assert list(GroupActivity.objects.filter(kind="comment")) == [note]
    assert kinds(group) == ["first_seen", "comment"]


# --- notifications ---------------------------------------------------------------


@recorder
@override_settings(SENTRY_ADMINS=["ops@example.com"])
def test_a_muted_error_tells_nobody_until_its_mute_ends_with_is_unmuted():
    client.create_from_text("queue stalled")
    group = the_group()
    assert len(calls()) == 1
    mail.outbox.clear()
    staff_client().post(mute_url(group), {"count": "2"})
    RecorderPlugin.reset()

    client.create_from_text("queue stalled")
    assert calls() == []
    client.create_from_text("queue stalled")

    (call,) = calls()
    assert call["kwargs"] == {"is_unmuted": True}
    assert (call["is_new"], call["is_regression"]) == (False, False)
    client.create_from_text("queue stalled")
    assert calls()[-1]["kwargs"] == {}
    # The admins hear of the end of the mute, once (tests/test_notifications.py).
    assert [m.subject for m in mail.outbox] == [
        "[Sentry] Unmuted (ERROR): queue stalled"
    ]


@recorder
@override_settings(SENTRY_ADMINS=["ops@example.com"])
def test_a_muted_error_sends_no_mail_while_muted():
    client.create_from_text("queue stalled")
    postprocess.flush()
    mail.outbox.clear()
    staff_client().post(mute_url(the_group()), {})

    for _ in range(3):
        client.create_from_text("queue stalled")

    assert [c for c in calls() if c["group"].pk == the_group().pk][1:] == []
    assert mail.outbox == []


# --- history ---------------------------------------------------------------------


def test_the_history_records_first_seen_with_its_event_and_each_change():
    first = record()
    group = the_group()
    user = staff_user("ann")
    browser = logged_in(user)
    browser.post(reverse("sentry:resolve", args=[group.pk]))
    browser.post(reverse("sentry:unresolve", args=[group.pk]))
    browser.post(reverse("sentry:resolve", args=[group.pk]))
    regression = record()

    entries = list(GroupActivity.objects.filter(group=group).order_by("date", "id"))
    assert [e.kind for e in entries] == [
        "first_seen",
        "resolved",
        "unresolved",
        "resolved",
        "regressed",
    ]
    assert entries[0].message_id == first and entries[0].user is None
    assert entries[-1].message_id == regression and entries[-1].user is None
    assert {e.user for e in entries[1:4]} == {user}


def test_a_batch_writes_its_history_in_one_insert():
    events = [pipeline.prepare({"message": f"error {n % 5}"}) for n in range(50)]

    with CaptureQueriesContext(connection) as queries:
        run_in_transaction(
            lambda using: store_batch(using, events), get_write_alias(Message)
        )

    inserts = [q for q in queries if "sentry_groupactivity" in q["sql"]]
    assert len(inserts) == 1
    assert GroupActivity.objects.filter(kind="first_seen").count() == 5


def test_the_history_tab_lists_entries_newest_first_a_page_at_a_time():
    record()
    group = the_group()
    staff = staff_client()
    for n in range(55):
        comments.add(group.pk, None, f"note {n}")

    first = staff.get(reverse("sentry:group-history", args=[group.pk]))
    body = first.content.decode()

    assert first.status_code == 200
    assert body.index("note 54") < body.index("note 53")
    assert "note 5<" in body and "note 4<" not in body
    older = staff.get(
        reverse("sentry:group-history", args=[group.pk]),
        {"after": first.context["page"].next_cursor},
    ).content.decode()
    assert "First seen" in older and "note 0" in older


# --- comments -------------------------------------------------------------------


def test_comments_are_escaped_and_only_web_addresses_become_links():
    html = comments.render(
        "<script>x</script> see https://example.com/a?b=1&c=2. "
        "or javascript:alert(1) and http://"
    )

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert (
        '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener '
        'noreferrer">https://example.com/a?b=1&amp;c=2</a>.'
    ) in html
    assert "javascript:alert(1)" in html and 'href="javascript' not in html
    assert html.endswith("and http://")


def test_a_quote_in_a_link_cannot_leave_its_attribute():
    html = comments.render('https://example.com/"onmouseover="alert(1)')

    assert '"onmouseover' not in html
    assert "&quot;onmouseover=&quot;" in html


def link(address):
    return f'<a href="{address}" rel="nofollow noopener noreferrer">{address}</a>'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Parentheses: around the address, or in it (balanced), or both.
        ("(https://example.com/a)", "(" + link("https://example.com/a") + ")"),
        (
            "see https://en.wikipedia.org/wiki/Foo_(bar).",
            "see " + link("https://en.wikipedia.org/wiki/Foo_(bar)") + ".",
        ),
        (
            "(https://en.wikipedia.org/wiki/Foo_(bar))",
            "(" + link("https://en.wikipedia.org/wiki/Foo_(bar)") + ")",
        ),
        ("<https://example.com/>", "&lt;" + link("https://example.com/") + "&gt;"),
        ('"https://example.com"', "&quot;" + link("https://example.com") + "&quot;"),
        ("((javascript:alert(1)))", "((javascript:alert(1)))"),
    ],
)
def test_an_address_in_brackets_or_quotes_is_linked_without_them(text, expected):
    assert comments.render(text) == expected


@pytest.mark.parametrize("mark", ["\u202e", "\u2067", "\u200f"])
def test_an_address_with_a_direction_mark_is_not_linked(mark):
    # Shown right to left, "https://evil.example/<RLO>moc.elgoog/" reads as
    # an address of google.com: text, not a link.
    html = comments.render(f"https://evil.example/{mark}moc.elgoog/")

    assert "<a" not in html
    assert "https://evil.example/" in html


def test_rendering_a_comment_of_brackets_takes_linear_time():
    text = "(" * 100_000 + "https://a" + ")" * 100_000 + " " + "(https://" * 20_000
    started = time.monotonic()

    comments.render(text)

    assert time.monotonic() - started < 2


def test_rendering_a_long_comment_takes_linear_time():
    text = "https://" + "a" * 200_000 + " " + "." * 200_000
    started = time.monotonic()

    comments.render(text)

    assert time.monotonic() - started < 2


def test_staff_comment_and_the_comment_shows_escaped_in_the_history():
    record()
    group = the_group()
    staff = staff_client()

    response = staff.post(
        reverse("sentry:group-comment", args=[group.pk]),
        {"text": "<b>bold</b> see https://example.com"},
    )

    assert response.status_code == 302
    page = staff.get(reverse("sentry:group-history", args=[group.pk])).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert 'rel="nofollow noopener noreferrer">https://example.com</a>' in page


@pytest.mark.parametrize(
    ("text", "reason"),
    [("   ", "cannot be empty"), ("x" * 5001, "at most 5000 characters")],
)
def test_an_empty_or_overlong_comment_is_refused(text, reason):
    record()

    response = staff_client().post(
        reverse("sentry:group-comment", args=[the_group().pk]), {"text": text}
    )

    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not GroupActivity.objects.filter(kind="comment").exists()


def test_only_its_author_edits_or_deletes_a_comment():
    record()
    group = the_group()
    ann, bob = staff_user("ann"), staff_user("bob")
    note = comments.add(group.pk, ann, "first words")
    url = reverse("sentry:group-comment", args=[group.pk])

    as_bob = logged_in(bob)
    assert as_bob.post(url, {"comment": note.pk, "text": "bob's"}).status_code == 403
    assert as_bob.post(url, {"comment": note.pk, "delete": "1"}).status_code == 403
    note.refresh_from_db()
    assert note.text == "first words"

    as_ann = logged_in(ann)
    assert as_ann.post(url, {"comment": note.pk, "text": "new words"}).status_code == (
        302
    )
    note.refresh_from_db()
    assert (note.text, note.edited is not None) == ("new words", True)
    assert as_ann.post(url, {"comment": note.pk, "delete": "1"}).status_code == 302
    assert not GroupActivity.objects.filter(kind="comment").exists()


def test_a_deleted_users_comments_stay_without_an_author():
    record()
    ann = staff_user("ann")
    comments.add(the_group().pk, ann, "still here")

    ann.delete()

    assert GroupActivity.objects.get(kind="comment").user is None


# --- the JSON API --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "expected"),
    [
        ({}, None, None),
        ({"minutes": 30}, "muted_until", "set"),
        ({"until": "2030-05-01T10:00:00+02:00"}, "muted_until", "2030-05-01T08:00"),
        ({"count": 5}, "muted_until_times_seen", 6),
        ({"users": 4}, "muted_until_users", 4),
    ],
)
def test_the_api_mutes_with_each_condition(body, field, expected):
    record()
    api = api_client(staff_user())

    response = post_json(api, "sentry:api-mute", the_group(), body)

    assert response.status_code == 200
    assert response.json()["muted"] is True
    group = the_group()
    assert group.muted
    if expected == "set":
        assert group.muted_until > timezone.now()
    elif field == "muted_until":
        assert group.muted_until.isoformat().startswith(expected)
    elif field is not None:
        assert getattr(group, field) == expected


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[]", "must be a JSON object"),
        ("{", "not JSON"),
        ('{"minutes": 0}', "from 1 to"),
        ('{"minutes": true}', "whole number"),
        ('{"count": 1.5}', "whole number"),
        ('{"count": 1, "users": 2}', "at most one condition"),
        ('{"forever": true}', "Unknown field 'forever'"),
        ('{"until": "soon"}', "ISO 8601"),
        ('{"until": "2000-01-01T00:00:00Z"}', "in the future"),
        ('{"until": "2999-01-01T00:00:00Z"}', "too far in the future"),
        ('{"until": "9999-12-31T23:59:59-23:59"}', "out of range"),
        ('{"until": "0001-01-01T00:00:00+23:00"}', "out of range"),
    ],
)
def test_the_api_refuses_a_bad_mute_body_and_says_why(body, reason):
    record()
    api = api_client(staff_user())

    response = api.post(
        reverse("sentry:api-mute", args=[the_group().pk]),
        body,
        content_type="application/json",
    )

    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert not the_group().muted


def test_a_mute_until_a_moment_with_an_offset_is_told_in_utc():
    record()
    group = the_group()
    api = api_client(staff_user())

    post_json(api, "sentry:api-mute", group, {"until": "2030-05-01T10:00:00+02:00"})

    # 10:00 at +02:00 is 08:00 UTC: the history says so, and the entry's
    # data gives the same moment.
    entry = GroupActivity.objects.get(group=group, kind="muted")
    assert entry.text == "Muted until 2030-05-01 08:00 UTC"
    assert entry.data == {"until": "2030-05-01T08:00:00+00:00"}


@pytest.mark.parametrize(
    ("field", "column"), [("count", "times_seen"), ("users", "users")]
)
def test_a_mute_by_a_large_number_near_the_columns_limit_stops_at_the_limit(
    field, column
):
    # times_seen + count past 2**31 - 1 overflowed PostgreSQL's integer (a 500).
    group = make_group(**{column: 2**31 - 10})
    api = api_client(staff_user())

    response = post_json(api, "sentry:api-mute", group, {field: 10**9})

    assert response.status_code == 200
    group.refresh_from_db()
    assert group.muted
    assert getattr(group, f"muted_until_{column}") == 2**31 - 1


def test_the_api_unmutes_and_the_group_json_says_muted():
    record()
    group = the_group()
    api = api_client(staff_user())
    post_json(api, "sentry:api-mute", group, {})
    assert api.get(reverse("sentry:api-group", args=[group.pk])).json()["muted"]

    response = post_json(api, "sentry:api-unmute", group, {})

    assert response.json()["muted"] is False
    assert not the_group().muted


def test_a_read_only_token_cannot_mute_or_comment():
    record()
    api = api_client(staff_user(), scopes=("event:read",))

    assert post_json(api, "sentry:api-mute", the_group(), {}).status_code == 403
    response = post_json(api, "sentry:api-comments", the_group(), {"text": "hi"})
    assert response.status_code == 403
    assert not the_group().muted


def test_the_api_lists_the_history_newest_first_with_users():
    record()
    group = the_group()
    ann = staff_user("ann")
    api = api_client(ann)
    post_json(api, "sentry:api-mute", group, {"minutes": 60})
    created = post_json(api, "sentry:api-comments", group, {"text": "looking"})
    assert created.status_code == 201

    entries = api.get(reverse("sentry:api-history", args=[group.pk])).json()

    assert [
        (e["kind"], e["user"], e["release"], e["text"]) for e in entries["results"]
    ] == [
        ("comment", "ann", None, "looking"),
        ("muted", "ann", None, "Muted for 60 minutes"),
        ("first_seen", None, None, ""),
    ]
    assert entries["next"] is None
    assert all(e["date"] for e in entries["results"])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, '{"text": "..."}'),
        ({"text": 5}, "must be a string"),
        ({"text": ""}, "cannot be empty"),
        ({"text": "x" * 5001}, "at most 5000"),
    ],
)
def test_the_api_refuses_a_bad_comment_and_says_why(body, reason):
    record()
    api = api_client(staff_user())

    response = post_json(api, "sentry:api-comments", the_group(), body)

    assert response.status_code == 400
    assert reason in response.json()["detail"]


def comment_url(group, entry):
    return reverse("sentry:api-comment", args=[group.pk, entry.pk])


def send_json(api, method, url, body, **extra):
    payload = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return getattr(api, method)(
        url, payload, content_type=extra.pop("content_type", "application/json")
    )


@pytest.mark.parametrize("method", ["patch", "post"])
def test_the_api_edits_a_comment_of_its_author(method):
    record()
    group = the_group()
    ann = staff_user("ann")
    note = comments.add(group.pk, ann, "first words")

    response = send_json(
        api_client(ann), method, comment_url(group, note), {"text": " new words "}
    )

    assert response.status_code == 200
    answer = response.json()
    assert (answer["id"], answer["kind"], answer["user"], answer["text"]) == (
        note.pk,
        "comment",
        "ann",
        "new words",
    )
    assert answer["edited"] is not None
    note.refresh_from_db()
    assert (note.text, note.edited is not None) == ("new words", True)
    # The history says it too.
    history = api_client(ann).get(reverse("sentry:api-history", args=[group.pk]))
    assert history.json()["results"][0]["edited"] == answer["edited"]


def test_the_api_deletes_a_comment_of_its_author():
    record()
    group = the_group()
    ann = staff_user("ann")
    note = comments.add(group.pk, ann, "to go")

    response = api_client(ann).delete(comment_url(group, note))

    assert response.status_code == 204
    assert kinds(group) == ["first_seen"]
    assert api_client(ann).delete(comment_url(group, note)).status_code == 404


def test_only_its_author_may_edit_or_delete_a_comment_through_the_api(
    django_user_model,
):
    record()
    group = the_group()
    ann = staff_user("ann")
    note = comments.add(group.pk, ann, "ann's words")
    root = django_user_model.objects.create_superuser("root", "r@x.org", "pw")
    orphan = comments.add(group.pk, None, "its author is gone")

    for user in (staff_user("bob"), root):
        api = api_client(user)
        url = comment_url(group, note)
        edited = send_json(api, "patch", url, {"text": "bob's"})
        assert edited.status_code == 403
        assert edited.json() == {
            "detail": "Only its author may change or delete a comment."
        }
        assert api.delete(url).status_code == 403
        # Nobody is the author of a comment whose author was deleted.
        assert api.delete(comment_url(group, orphan)).status_code == 403
    # A read-only token of the author, too.
    reader = api_client(ann, scopes=("event:read",))
    assert reader.delete(comment_url(group, note)).status_code == 403
    assert send_json(Client(), "patch", comment_url(group, note), {}).status_code == (
        401
    )
    note.refresh_from_db()
    assert note.text == "ann's words"


def test_a_session_must_send_the_csrf_token_to_edit_a_comment():
    record()
    group = the_group()
    ann = staff_user("ann")
    note = comments.add(group.pk, ann, "mine")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(ann)

    response = browser.delete(comment_url(group, note))
    edited = send_json(browser, "patch", comment_url(group, note), {"text": "x"})

    assert (response.status_code, edited.status_code) == (403, 403)
    assert response.json() == {"detail": "CSRF check failed."}
    note.refresh_from_db()
    assert note.text == "mine"


def test_what_is_not_a_comment_of_this_error_is_not_found():
    record()
    group = the_group()
    ann = staff_user("ann")
    other = make_group("other")
    note = comments.add(other.pk, ann, "elsewhere")
    api = api_client(ann)
    api.post(reverse("sentry:api-resolve", args=[group.pk]))
    resolved = GroupActivity.objects.get(kind="resolved")

    # Another error's comment, a change that is not a comment, no such id.
    for url in (
        comment_url(group, note),
        comment_url(group, resolved),
        reverse("sentry:api-comment", args=[group.pk, 10**9]),
    ):
        assert api.delete(url).status_code == 404, url
        assert send_json(api, "patch", url, {"text": "x"}).status_code == 404, url
    assert GroupActivity.objects.get(pk=resolved.pk).text == ""
    assert api.get(comment_url(other, note)).status_code == 405


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        ({}, "application/json", 'Give the new text as {"text": "..."}.'),
        ({"text": None}, "application/json", "'text' must be a string."),
        ({"text": " \n "}, "application/json", "A comment cannot be empty."),
        (
            {"text": "x" * 5001},
            "application/json",
            "A comment is at most 5000 characters.",
        ),
        ("[1, 2]", "application/json", "The body must be a JSON object."),
        ("{not json", "application/json", "The body is not JSON."),
        (b"\xff\xfe", "application/json", "The body is not JSON."),
        (
            "text=x",
            "application/x-www-form-urlencoded",
            "Send the body as JSON (Content-Type: application/json).",
        ),
    ],
)
def test_the_api_refuses_a_bad_edit_and_says_why(body, content_type, reason):
    record()
    group = the_group()
    ann = staff_user("ann")
    note = comments.add(group.pk, ann, "kept")

    response = send_json(
        api_client(ann),
        "patch",
        comment_url(group, note),
        body,
        content_type=content_type,
    )

    assert response.status_code == 400
    assert response.json() == {"detail": reason}
    note.refresh_from_db()
    assert (note.text, note.edited) == ("kept", None)


def test_the_api_resolve_is_recorded_with_the_tokens_user():
    record()
    ann = staff_user("ann")

    api_client(ann).post(reverse("sentry:api-resolve", args=[the_group().pk]))

    assert GroupActivity.objects.get(kind="resolved").user == ann


# --- concurrent writers -------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_mute_by_count_ends_exactly_once_under_concurrent_writers():
    record("muted error")
    group = the_group()
    staff_client().post(mute_url(group), {"count": "37"})
    batches, size = 5, 7  # 4 workers x 35 events: the 37th more ends it

    results = run_workers("muted", str(batches), str(size), "0", str(time.time() + 2))

    assert sum(r["failed"] for r in results) == 0
    unmuted = [message_id for r in results for message_id in r["unmuted"]]
    assert len(unmuted) == 1
    # Exactly the 36 events before the 37th were told to nobody.
    assert sum(r["muted"] for r in results) == 36
    group.refresh_from_db()
    assert (group.times_seen, group.muted) == (1 + 4 * batches * size, False)
    entry = GroupActivity.objects.get(group=group, kind="unmuted")
    assert entry.message_id == unmuted[0]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_mute_by_users_ends_exactly_once_under_concurrent_writers():
    record("muted error")
    group = the_group()
    staff_client().post(mute_url(group), {"users": "50"})

    results = run_workers("muted", "5", "7", "1", str(time.time() + 2))

    assert sum(r["failed"] for r in results) == 0
    unmuted = [message_id for r in results for message_id in r["unmuted"]]
    assert len(unmuted) == 1
    group.refresh_from_db()
    assert (group.users, group.muted) == (140, False)
    assert GroupActivity.objects.filter(group=group, kind="unmuted").count() == 1


def test_the_history_tab_runs_the_same_queries_however_long_the_history(
    django_assert_num_queries,
):
    record()
    group = the_group()
    staff = staff_client()
    url = reverse("sentry:group-history", args=[group.pk])
    staff.get(url)
    for n in range(30):
        comments.add(group.pk, staff_user(f"user{n}"), f"note {n}")

    # session, user, group, the page of entries with their users.
    with django_assert_num_queries(4):
        response = staff.get(url)

    assert len(response.context["page"]) == 31


def test_the_api_history_runs_the_same_queries_however_long_the_history(
    django_assert_num_queries,
):
    record()
    group = the_group()
    ann = staff_user("ann")
    api = api_client(ann)
    for n in range(30):
        comments.add(group.pk, staff_user(f"user{n}"), f"note {n}")
    url = reverse("sentry:api-history", args=[group.pk])

    # token (with its user), its last use, group, the entries with their users.
    with django_assert_num_queries(4):
        response = api.get(url, {"limit": 100})

    assert len(response.json()["results"]) == 31
