"""Releases: first and last release of a group, and resolving in a release."""

import datetime as dt
import json
import re
import time

import pytest
from django.core import checks
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from sentry import pipeline
from sentry.client.models import client
from sentry.db import get_write_alias, run_in_transaction
from sentry.models import GroupActivity, GroupedMessage, Message, Release
from sentry.releases import versions
from sentry.releases.versions import is_newer, parse
from sentry.storage import store_batch
from tests.dashboard_factories import staff_client
from tests.ingest_factories import (
    event_envelope,
    make_key,
    message_event,
    post_envelope,
)

pytestmark = pytest.mark.django_db


def record(release=None, message="checkout failed", environment=None, when=None):
    """Store one event of the error ``message`` sent from ``release``."""
    data = {}
    if release is not None:
        data["release"] = release
    if environment is not None:
        data["environment"] = environment
    event = {"message": message, "data": data}
    if when is not None:
        event["datetime"] = when
    return pipeline.record(pipeline.prepare(event, shaped=True))


def record_batch(*releases, message="checkout failed"):
    """Store one batch of events of one error, one per release given."""
    events = [
        pipeline.prepare(
            {"message": message, "data": {"release": r} if r else {}}, shaped=True
        )
        for r in releases
    ]
    return run_in_transaction(
        lambda using: store_batch(using, events), get_write_alias(Message)
    )


def the_group():
    return GroupedMessage.objects.get()


def history(group, kind):
    return list(
        GroupActivity.objects.filter(group=group, kind=kind)
        .order_by("date", "id")
        .values_list("release", "message_id")
    )


def resolve(group, **body):
    """Resolve ``group`` through the dashboard, as its resolve menu does."""
    browser = staff_client(f"resolver{time.monotonic_ns()}")
    response = browser.post(reverse("sentry:resolve", args=[group.pk]), body)
    assert response.status_code == 302, response.content
    group.refresh_from_db()
    return group


# --- the order of releases ----------------------------------------------------


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("1.2.3", "1.2.4"),
        ("1.2.9", "1.10.0"),
        ("v1.2.3", "1.3.0"),
        ("1.2", "1.2.1"),
        ("1.2.3-rc.1", "1.2.3"),
        ("1.2.3-alpha", "1.2.3-beta"),
        ("1.2.3-rc.2", "1.2.3-rc.10"),
        ("1.2.3-rc.1", "1.2.3-rc.1.1"),
        ("1.2.3-1", "1.2.3-alpha"),
        ("shop@1.9.0", "shop@1.10.0"),
        ("2.0.0+build.9", "2.0.1+build.1"),
    ],
)
def test_semantic_versions_are_ordered_by_number_whatever_their_first_seen(
    older, newer
):
    # The older version was seen later: the number decides.
    early, late = timezone.now(), timezone.now() + dt.timedelta(hours=1)
    assert is_newer((newer, early), (older, late))
    assert not is_newer((older, late), (newer, early))


@pytest.mark.parametrize(
    ("a", "b"), [("1.2.3", "v1.2.3"), ("1.2.3+a", "1.2.3+b"), ("1.2", "1.2.0")]
)
def test_equal_versions_are_not_newer_either_way(a, b):
    early, late = timezone.now(), timezone.now() + dt.timedelta(hours=1)
    assert not is_newer((a, late), (b, early))
    assert not is_newer((b, late), (a, early))


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("2026 winter", "2026 spring"),
        ("abc123", "1.0.0"),
        ("1.0.0", "deadbeef"),
        ("shop@2.0.0", "cart@1.0.0"),
        ("1.2.3.4.5", "1.2.3.4.6"),
    ],
)
def test_other_names_are_ordered_by_when_they_were_first_seen(first, then):
    early, late = timezone.now(), timezone.now() + dt.timedelta(hours=1)
    assert is_newer((then, late), (first, early))
    assert not is_newer((first, early), (then, late))


def test_a_release_whose_first_seen_is_unknown_is_never_newer():
    assert not is_newer(("winter", None), ("autumn", timezone.now()))
    assert not is_newer(("winter", timezone.now()), ("autumn", None))


@pytest.mark.parametrize(
    "name",
    [
        "",
        "v",
        "1.",
        ".1",
        "1..2",
        "1.2.3-",
        "1.2.3+",
        "1.2.3-rc..1",
        "1.2.x",
        "1.2.3-rc_1",
        "1.2.3 ",
        "１.２.３",
        "1" * 31,
        "1.2.3-" + "a" * 61,
        "1.2.3\x00",
    ],
)
def test_names_that_are_not_versions_do_not_parse(name):
    assert parse(name) is None


def test_hostile_names_are_read_in_linear_time_and_bounded():
    # The longest a column holds, and far past it: refused or read in one
    # pass, never a backtracking scan.
    for name in (
        "1." * 100,
        "1" * 200,
        "@" * 200,
        "v" + "-" * 199,
        "1.2.3-" + "a." * 97,
        "1.2.3+" + "+" * 194,
        "9" * 10**6,
        "1.2.3-" + "a" * 10**6,
    ):
        started = time.perf_counter()
        for _ in range(100):
            parse(name)
        assert time.perf_counter() - started < 0.5, name[:20]
    assert parse("1" * (versions.MAX_LENGTH + 1)) is None


# --- a group's first and last release -----------------------------------------


def test_a_group_knows_the_release_it_was_first_and_last_seen_in():
    record("1.0.0")
    record("1.1.0")
    record()  # no release: the last one stays

    group = the_group()
    assert (group.first_release, group.last_release) == ("1.0.0", "1.1.0")
    assert sorted(Release.objects.values_list("version", flat=True)) == [
        "1.0.0",
        "1.1.0",
    ]


def test_an_old_event_arriving_late_does_not_become_the_last_release():
    record("2.0.0")
    record("1.0.0", when=timezone.now() - dt.timedelta(hours=1))

    assert the_group().last_release == "2.0.0"


def test_a_batch_sets_the_releases_of_its_earliest_and_newest_events():
    record_batch(None, "3.0", "3.1", None)

    group = the_group()
    assert (group.first_release, group.last_release) == ("3.0", "3.1")
    assert Release.objects.count() == 2


def test_sdk_events_carry_their_release_and_environment(client):
    key = make_key()
    for release in ("shop@1.0.0", "shop@1.1.0"):
        event = message_event(release=release, environment="production")
        response = post_envelope(client, event_envelope(event), key)
        assert response.status_code == 200

    group = GroupedMessage.objects.get()
    assert (group.first_release, group.last_release) == ("shop@1.0.0", "shop@1.1.0")
    assert set(Release.objects.values_list("project_id", "version")) == {
        (42, "shop@1.0.0"),
        (42, "shop@1.1.0"),
    }
    api = staff_client()
    body = api.get(reverse("sentry:api-group", args=[group.pk])).json()
    assert (body["first_release"], body["last_release"]) == (
        "shop@1.0.0",
        "shop@1.1.0",
    )


def test_releases_are_per_project(client):
    make_key(project_id=42)
    other = make_key(project_id=43)
    post_envelope(client, event_envelope(message_event(release="1.0")), other, 43)
    record("1.0")

    assert sorted(Release.objects.values_list("project_id", flat=True)) == [1, 43]


def test_a_hostile_release_name_is_cut_to_the_column():
    record("9" * 5000 + "\x00")

    group = the_group()
    assert len(group.first_release) == 200
    assert Release.objects.get().version == group.first_release


@override_settings(SENTRY_RELEASE="site@4.2.0", SENTRY_ENVIRONMENT="staging")
def test_the_in_process_client_sends_the_release_and_environment_settings():
    message_id = client.create_from_text("from the site itself")

    message = Message.objects.get(message_id=message_id)
    assert message.data["release"] == "site@4.2.0"
    assert message.data["environment"] == "staging"
    assert message.group.first_release == "site@4.2.0"


def test_the_in_process_client_reads_the_environment_variables(monkeypatch):
    monkeypatch.setenv("SENTRY_RELEASE", "env@1.0.0")
    monkeypatch.setenv("SENTRY_ENVIRONMENT", "production")

    message_id = client.create_from_text("from the site itself")

    message = Message.objects.get(message_id=message_id)
    assert (message.data["release"], message.data["environment"]) == (
        "env@1.0.0",
        "production",
    )
    with override_settings(SENTRY_RELEASE="settings@2.0.0"):
        message_id = client.create_from_text("from the site itself")
    # The setting wins over the variable.
    assert Message.objects.get(message_id=message_id).data["release"] == (
        "settings@2.0.0"
    )


@override_settings(SENTRY_RELEASE="settings@1.0")
def test_a_release_tag_passed_to_the_client_wins_over_the_setting():
    message_id = client.create_from_text("tagged", tags={"release": "tag@2.0"})

    group = Message.objects.get(message_id=message_id).group
    assert group.first_release == "tag@2.0"
    assert Release.objects.get().version == "tag@2.0"


@pytest.mark.parametrize("value", ["", "   ", 12, "x" * 201])
def test_a_release_setting_that_cannot_be_sent_is_a_check_error(value):
    with override_settings(SENTRY_RELEASE=value):
        errors = checks.run_checks(databases=[])
    assert "sentry.E021" in [e.id for e in errors]


# --- resolving, and what reopens ----------------------------------------------


def test_a_plainly_resolved_error_is_reopened_by_any_event():
    record("1.0.0")
    group = resolve(the_group())
    assert group.is_resolved

    record()

    group.refresh_from_db()
    assert not group.is_resolved
    assert len(history(group, "regressed")) == 1


def test_resolved_in_a_release_only_a_newer_release_reopens():
    record("1.0.0")
    group = resolve(the_group(), release="1.1.0")
    assert (group.resolved_in_release, group.resolved_in_next) == ("1.1.0", False)

    # Older, equal, and no release at all: still resolved.
    for release in ("1.0.0", "1.1.0", "v1.1.0", "1.1.0-rc.1", None):
        record(release)
        group.refresh_from_db()
        assert group.is_resolved, release
    assert history(group, "regressed") == []

    message_id = record("1.1.1")

    group.refresh_from_db()
    assert not group.is_resolved
    assert group.resolved_in_release is None
    assert history(group, "regressed") == [("1.1.1", message_id)]
    assert history(group, "resolved")[0][0] == "1.1.0"


def test_an_event_of_an_older_release_never_reopens_sentry_104513():
    # Resolved in 2.0 while old servers still run 1.x: they keep sending.
    record("2.0.0")
    group = resolve(the_group(), next_release="1")
    assert (group.resolved_in_release, group.resolved_in_next) == ("2.0.0", True)

    for release in ("1.9.9", "1.0.0", "2.0.0-rc.3", "2.0.0"):
        record_batch(release, release)
    group.refresh_from_db()
    assert group.is_resolved
    assert group.last_release == "2.0.0"

    record("2.0.1")
    group.refresh_from_db()
    assert not group.is_resolved


def test_resolved_in_the_next_release_follows_the_last_release_by_first_seen():
    record("winter")
    group = resolve(the_group(), next_release="1")
    assert group.resolved_in_release == "winter"

    # Seen before the resolution: older.
    Release.objects.create(
        project_id=1, version="autumn", date_added=timezone.now() - dt.timedelta(1)
    )
    record("autumn")
    group.refresh_from_db()
    assert group.is_resolved

    record("spring")
    group.refresh_from_db()
    assert not group.is_resolved
    assert history(group, "regressed")[0][0] == "spring"


def test_resolving_in_a_release_not_seen_yet_creates_it():
    record("1.0")
    group = resolve(the_group(), release="next-big-thing")

    release = Release.objects.get(version="next-big-thing")
    assert release.project_id == 1
    # "1.0" was seen before it: not newer; one first seen later is.
    record("1.0")
    group.refresh_from_db()
    assert group.is_resolved
    record("after-the-fix")
    group.refresh_from_db()
    assert not group.is_resolved


def test_the_first_newer_event_of_a_batch_reopens_and_is_recorded():
    record("1.0.0")
    group = resolve(the_group(), release="1.0.0")

    results = record_batch(None, "0.9.0", "1.2.0", "1.3.0")

    group.refresh_from_db()
    assert not group.is_resolved
    assert [r.regressed for r in results] == [False, False, True, False]
    assert history(group, "regressed") == [("1.2.0", results[2].message_id)]
    assert group.last_release == "1.3.0"


def test_resolving_plainly_again_forgets_the_release():
    record("1.0.0")
    group = resolve(the_group(), release="5.0.0")
    group = resolve(group)

    assert group.is_resolved and group.resolved_in_release is None
    record("1.0.0")
    group.refresh_from_db()
    assert not group.is_resolved


def test_the_next_release_of_an_error_seen_in_none_is_refused():
    record()
    browser = staff_client()

    response = browser.post(
        reverse("sentry:resolve", args=[the_group().pk]), {"next_release": "1"}
    )

    assert response.status_code == 400
    assert b"never seen in a release" in response.content
    assert not the_group().is_resolved


def test_the_history_tells_how_it_was_resolved():
    record("1.0.0")
    group = resolve(the_group(), next_release="1")
    resolve(group, release="1.4")

    texts = list(
        GroupActivity.objects.filter(group=group, kind="resolved")
        .order_by("id")
        .values_list("text", "release")
    )
    assert texts == [
        ("Resolved in the next release (after 1.0.0)", "1.0.0"),
        ("Resolved in release 1.4", "1.4"),
    ]


# --- the API --------------------------------------------------------------------


def api_post(group, body, raw=None):
    browser = staff_client(f"api{time.monotonic_ns()}")
    return browser.post(
        reverse("sentry:api-resolve", args=[group.pk]),
        raw if raw is not None else json.dumps(body),
        content_type="application/json",
    )


def test_the_api_resolves_in_a_release_and_in_the_next_one():
    record("1.0.0")
    group = the_group()

    body = api_post(group, {"release": "1.0.1"}).json()
    assert body["status"] == "resolved"
    assert (body["resolved_in_release"], body["resolved_in_next"]) == ("1.0.1", False)

    body = api_post(group, {"next_release": True}).json()
    assert (body["resolved_in_release"], body["resolved_in_next"]) == ("1.0.0", True)

    body = api_post(group, None, raw="").json()
    assert (body["resolved_in_release"], body["resolved_in_next"]) == (None, False)
    assert body["first_release"] == body["last_release"] == "1.0.0"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([], "must be a JSON object"),
        ({"version": "1.0"}, "Unknown field 'version'"),
        ({"release": "1.0", "next_release": True}, "not both"),
        ({"release": 1.0}, "must be a release name"),
        ({"release": None}, "must be a release name"),
        ({"release": "  "}, "must not be empty"),
        ({"release": "x" * 201}, "too long"),
        ({"release": "1.0\x00"}, "NUL"),
        ({"next_release": False}, "must be true"),
        ({"next_release": 1}, "must be true"),
        ({"next_release": "yes"}, "must be true"),
    ],
)
def test_the_api_refuses_a_bad_resolve_body_and_says_why(body, reason):
    record("1.0.0")
    group = the_group()

    response = api_post(group, body)

    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert not the_group().is_resolved


def test_the_api_refuses_the_next_release_of_an_error_seen_in_none():
    record()

    response = api_post(the_group(), {"next_release": True})

    assert response.status_code == 400
    assert "never seen in a release" in response.json()["detail"]


def test_the_api_refuses_a_body_that_is_not_json():
    record("1.0")

    response = api_post(the_group(), None, raw="{release")

    assert response.status_code == 400
    assert response.json()["detail"] == "The body is not JSON."


# --- the group page -------------------------------------------------------------


def test_the_group_page_shows_its_releases_and_the_resolve_menu():
    record("1.0.0")
    record("1.1.0")
    record("1.1.0")
    browser = staff_client()

    page = browser.get(reverse("sentry:group", args=[the_group().pk]))

    html = page.content.decode()
    assert "First seen in</dt><dd data-first-release>1.0.0" in html
    assert "Last seen in</dt><dd data-last-release>1.1.0" in html
    releases = page.context["group_releases"]
    assert [(v.value, v.times_seen) for v in releases.values] == [
        ("1.1.0", 2),
        ("1.0.0", 1),
    ]
    assert 'name="next_release"' in html and "(after 1.1.0)" in html
    assert 'name="release"' in html


def test_the_group_page_escapes_release_names():
    name = "<script>alert(1)</script>"
    record(name)
    browser = staff_client()

    group = resolve(the_group(), release=name + "2")
    page = browser.get(reverse("sentry:group", args=[group.pk])).content.decode()

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;2" in page


# --- concurrent writers -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_a_newer_release_reopen_it_exactly_once():
    from tests.test_concurrency import run_workers

    record("1.0.0", message="release error")
    group = resolve(the_group(), release="1.0.0")

    results = run_workers("releases", "6", "9", str(time.time() + 2))

    assert sum(r["failed"] for r in results) == 0
    regressed = [message_id for r in results for message_id in r["regressed"]]
    assert len(regressed) == 1
    group.refresh_from_db()
    assert not group.is_resolved
    assert group.times_seen == 1 + len(results) * 6 * 9
    assert history(group, "regressed") == [("2.0.0", regressed[0])]


# --- the releases page -------------------------------------------------------------


def releases_url(slug="default"):
    return reverse("sentry:releases", args=[slug])


def test_the_releases_page_lists_each_release_with_its_events_new_and_regressed():
    record("1.0.0", message="old error")
    record("1.0.0", message="old error")
    resolve(GroupedMessage.objects.get(message="old error"), release="1.0.0")
    record("1.1.0", message="new in 1.1")
    record("1.1.0", message="old error")  # regressed in 1.1.0
    browser = staff_client()

    page = browser.get(releases_url())

    assert page.status_code == 200
    rows = {r.version: r for r in page.context["page"].items}
    assert [r.version for r in page.context["page"].items] == ["1.1.0", "1.0.0"]
    assert (rows["1.0.0"].events, rows["1.1.0"].events) == (2, 2)
    assert [g.message for g in rows["1.0.0"].new.groups] == ["old error"]
    assert [g.message for g in rows["1.1.0"].new.groups] == ["new in 1.1"]
    assert [g.message for g in rows["1.1.0"].regressed.groups] == ["old error"]
    assert rows["1.0.0"].regressed.total == 0
    html = page.content.decode()
    assert 'href="/sentry/?project=default&amp;q=release%3A%221.1.0%22"' in html


def test_a_release_s_stream_link_finds_its_errors():
    record("2.0", message="in two")
    record("3.0", message="in three")
    browser = staff_client()
    page = browser.get(releases_url())
    url = {r.version: r.stream_url for r in page.context["page"].items}["2.0"]

    stream = browser.get(url)

    assert [row.message for row in stream.context["rows"]] == ["in two"]


def test_a_release_lists_a_few_of_its_new_errors_and_counts_the_rest():
    for n in range(8):
        record("4.0", message=f"error {n}")
    browser = staff_client()

    (release,) = browser.get(releases_url()).context["page"].items

    assert release.new.total == 8
    assert len(release.new.groups) == 5
    assert release.new.more == 3
    # The newest first.
    assert release.new.groups[0].message == "error 7"


def test_the_releases_page_runs_the_same_queries_however_many_releases():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    browser = staff_client()

    def queries(releases):
        for n in range(releases):
            record(f"5.{n}", message=f"error {n}")
            group = GroupedMessage.objects.get(message=f"error {n}")
            resolve(group, release=f"5.{n}")
            record(f"6.{n}", message=f"error {n}")
        with CaptureQueriesContext(connection) as captured:
            page = browser.get(releases_url())
        assert page.status_code == 200
        assert all(r.regressed.total for r in page.context["page"] if "6." in r.version)
        return len(captured)

    # Session, user, project, releases, events, new, regressed, their groups.
    assert queries(1) == queries(30) == 8


def test_the_releases_page_is_paged_newest_first():
    base = timezone.now()
    Release.objects.bulk_create(
        Release(project_id=1, version=f"r{n}", date_added=base - dt.timedelta(n))
        for n in range(30)
    )
    browser = staff_client()

    first = browser.get(releases_url()).context["page"]
    second = browser.get(releases_url(), {"after": first.next_cursor}).context["page"]

    assert [r.version for r in first.items] == [f"r{n}" for n in range(25)]
    assert [r.version for r in second.items] == [f"r{n}" for n in range(25, 30)]


def test_a_project_hidden_from_the_user_has_no_releases_page(django_user_model):
    from django.contrib.auth.models import Group

    from sentry.models import Project

    secret = Project.objects.create(name="Secret", slug="secret")
    secret.member_groups.add(Group.objects.create(name="insiders"))
    Release.objects.create(project=secret, version="hidden-1.0")
    browser = staff_client()

    assert browser.get(releases_url("secret")).status_code == 404
    assert browser.get(releases_url("no-such")).status_code == 404
    assert b"hidden-1.0" not in browser.get(releases_url()).content


def test_the_releases_page_escapes_release_names_and_titles():
    record("<b>1.0</b>", message="<i>boom</i>")
    browser = staff_client()

    html = browser.get(releases_url()).content.decode()

    assert "<b>1.0" not in html and "&lt;b&gt;1.0&lt;/b&gt;" in html
    assert "<i>boom" not in html


def test_the_projects_overview_and_a_project_s_stream_link_to_its_releases():
    browser = staff_client()
    link = f'href="{releases_url()}"'

    assert link in browser.get(reverse("sentry:projects")).content.decode()
    stream = browser.get(reverse("sentry:index"), {"project": "default"})
    assert link in stream.content.decode()


# --- the stream's environment selector -----------------------------------------------


def stream_messages(browser, **params):
    response = browser.get(reverse("sentry:index"), params)
    assert response.status_code == 200
    return sorted(row.message for row in response.context["rows"])


def test_the_environment_selector_narrows_the_stream_and_is_remembered():
    record(message="in production", environment="production")
    record(message="in staging", environment="staging")
    record(message="nowhere")
    browser = staff_client()

    choices = browser.get(reverse("sentry:index")).context["environments"]
    assert [value for value, _ in choices["choices"]] == ["production", "staging"]

    assert stream_messages(browser, environment="production") == ["in production"]
    # Remembered: the stream opens there, live updates and all.
    assert stream_messages(browser) == ["in production"]
    poll = browser.get(reverse("sentry:poll")).json()
    assert [row["title"] for row in poll["rows"]] == ["in production"]
    page = browser.get(reverse("sentry:index")).content.decode()
    assert "Environment: <strong>production</strong>" in page

    # Per user: another one sees every error.
    assert len(stream_messages(staff_client("other"))) == 3
    # "All environments" forgets it.
    assert len(stream_messages(browser, environment="")) == 3
    assert len(stream_messages(browser)) == 3


def test_resolve_all_matching_keeps_to_the_remembered_environment():
    record(message="in production", environment="production")
    record(message="in staging", environment="staging")
    browser = staff_client()
    stream_messages(browser, environment="staging")

    browser.post(reverse("sentry:bulk"), {"op": "resolve-all"})

    resolved = GroupedMessage.objects.filter(status=1)
    assert list(resolved.values_list("message", flat=True)) == ["in staging"]


def test_a_restricted_project_s_environments_are_not_offered_to_others():
    from django.contrib.auth.models import Group

    from sentry.models import Project

    secret = Project.objects.create(name="Secret", slug="secret")
    secret.member_groups.add(Group.objects.create(name="insiders"))
    with override_settings(SENTRY_PROJECT="secret"):
        record(message="hidden", environment="secret-env")
    record(message="shown", environment="public-env")
    browser = staff_client()

    choices = browser.get(reverse("sentry:index")).context["environments"]

    assert [value for value, _ in choices["choices"]] == ["public-env"]
    assert stream_messages(browser, environment="secret-env") == []


def test_a_hostile_environment_name_is_escaped_in_the_selector():
    hostile = '"><script>alert(1)</script> x onmouseover=alert(2)'
    record(message="hostile", environment=hostile)
    browser = staff_client()

    html = browser.get(reverse("sentry:index")).content.decode()

    assert "<script>alert(1)" not in html
    # Not even what looks like a handler inside a tag (the option's value).
    assert not re.search(r"<[^>]+\son\w+\s*=", html)
    assert stream_messages(browser, environment=hostile) == ["hostile"]
    assert stream_messages(browser, environment="x\x00") == []


def test_the_migration_offers_the_environments_counted_before_it():
    import importlib
    import pkgutil
    import types

    from django.apps import apps
    from django.db import connection

    import sentry.migrations
    from sentry.models import FilterValue, MessageFilterValue
    from tests.dashboard_factories import make_group

    # Found by its name, whatever number the merge gives it.
    (name,) = [
        module.name
        for module in pkgutil.iter_modules(sentry.migrations.__path__)
        if module.name.endswith("_releases")
    ]
    migration = importlib.import_module(f"sentry.migrations.{name}")
    group = make_group("old error")
    now = timezone.now()
    for value in ("legacy", "older"):
        MessageFilterValue.objects.create(
            group=group,
            key="tag:environment",
            value=value,
            first_seen=now,
            last_seen=now,
            times_seen=1,
        )
    FilterValue.objects.create(project_id=1, key="tag:environment", value="older")

    # What the function reads of its schema editor: the connection.
    editor = types.SimpleNamespace(connection=connection)
    migration.offer_known_environments(apps, editor)

    offered = FilterValue.objects.filter(key="tag:environment")
    assert sorted(offered.values_list("value", flat=True)) == ["legacy", "older"]


# --- what releases cost the digest ----------------------------------------------------


def batch_statements(releases, resolved_in=None):
    """Return the statements of one batch of 200 events over 2 errors."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # The errors exist (and are resolved in a release when asked): the
    # batch counts them, as most batches do.
    for kind in range(2):
        record("0.1", message=f"error {kind}")
    if resolved_in is not None:
        for group in GroupedMessage.objects.all():
            resolve(group, release=resolved_in)
    events = [
        pipeline.prepare(
            {
                "message": f"error {n % 2}",
                "data": {"release": releases[n // 2 % len(releases)]}
                if releases
                else {},
            },
            shaped=True,
        )
        for n in range(200)
    ]
    with CaptureQueriesContext(connection) as captured:
        run_in_transaction(
            lambda using: store_batch(using, events), get_write_alias(Message)
        )
    return len(captured)


def test_releases_cost_a_batch_one_statement_whatever_their_number():
    plain = batch_statements([])
    GroupedMessage.objects.all().delete()
    with_releases = batch_statements([f"1.{n}" for n in range(40)])

    assert with_releases == plain + 1
    group = GroupedMessage.objects.get(message="error 0")
    assert (group.first_release, group.last_release) == ("0.1", "1.19")


def test_reopening_in_a_release_costs_three_statements_more():
    plain = batch_statements(["1.0"])
    GroupedMessage.objects.all().delete()
    reopening = batch_statements(["0.5", "2.0"], resolved_in="1.0")

    # The releases' first seen, the UPDATE that reopens, and the history's
    # INSERT of the regressions (a batch that only counts writes none).
    assert reopening == plain + 3
    assert GroupedMessage.objects.filter(status=0).count() == 2
    regressed = GroupActivity.objects.filter(kind="regressed")
    assert sorted(regressed.values_list("release", flat=True)) == ["2.0", "2.0"]


def test_the_api_history_names_the_releases():
    record("1.0.0")
    group = resolve(the_group(), release="1.0.0")
    record("1.2.0")
    browser = staff_client("historian")

    body = browser.get(reverse("sentry:api-history", args=[group.pk])).json()

    entries = [(e["kind"], e["release"]) for e in body["results"]]
    assert entries == [
        ("regressed", "1.2.0"),
        ("resolved", "1.0.0"),
        ("first_seen", None),
    ]


# --- one release's page -------------------------------------------------------


def release_url(version, slug="default"):
    return reverse("sentry:release", args=[slug, version])


def test_a_release_s_page_lists_its_new_and_regressed_errors():
    record("feature/x-1", message="old error")
    resolve(the_group(), release="feature/x-1")
    for n in range(3):
        record("feature/x-2", message=f"new {n}")
    record("feature/x-2", message="old error")
    browser = staff_client()

    page = browser.get(release_url("feature/x-2"))

    assert page.status_code == 200
    assert page.context["events"] == 4
    assert [g.message for g in page.context["new"]] == ["new 2", "new 1", "new 0"]
    assert [g.message for g, _ in page.context["regressed"]] == ["old error"]
    listed = browser.get(releases_url()).content.decode()
    assert f'href="{release_url("feature/x-2")}"' in listed


def test_a_release_s_new_errors_are_paged():
    for n in range(30):
        record("big", message=f"error {n}")
    browser = staff_client()

    first = browser.get(release_url("big")).context["new"]
    second = browser.get(release_url("big"), {"after": first.next_cursor})

    assert len(first.items) == 25
    assert len(second.context["new"].items) == 5


def test_a_release_s_page_runs_the_same_queries_however_many_errors():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    browser = staff_client()

    def queries(errors):
        for n in range(errors):
            record("same", message=f"error {n}")
        with CaptureQueriesContext(connection) as captured:
            assert browser.get(release_url("same")).status_code == 200
        return len(captured)

    assert queries(1) == queries(30)


def test_an_unknown_hidden_or_unreadable_release_is_a_404(django_user_model):
    from django.contrib.auth.models import Group

    from sentry.models import Project

    secret = Project.objects.create(name="Secret", slug="secret")
    secret.member_groups.add(Group.objects.create(name="insiders"))
    Release.objects.create(project=secret, version="1.0")
    browser = staff_client()

    assert browser.get(release_url("1.0", "secret")).status_code == 404
    assert browser.get(release_url("never")).status_code == 404
    assert browser.get(release_url("1.0\x00")).status_code == 404
    assert browser.get(release_url("x" * 300)).status_code == 404


def test_a_release_name_no_url_can_hold_is_listed_without_a_page():
    record("line\nbreak", message="odd")

    page = browser_get_releases()

    assert page.status_code == 200
    (release,) = page.context["page"].items
    assert release.url is None
    assert "line\nbreak" in page.content.decode()


def browser_get_releases():
    return staff_client(f"lister{time.monotonic_ns()}").get(releases_url())


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"release": ""}, "must not be empty"),
        ({"release": "x" * 201}, "too long"),
        ({"release": "1.0", "next_release": "1"}, "not both"),
    ],
)
def test_the_dashboard_refuses_a_resolution_it_cannot_make_and_says_why(form, reason):
    record("1.0")
    browser = staff_client()
    url = reverse("sentry:resolve", args=[the_group().pk])

    page = browser.post(url, form)
    answer = browser.post(url, form, headers={"Accept": "application/json"})

    assert page.status_code == 400 and reason in page.content.decode()
    assert answer.status_code == 400 and reason in answer.json()["error"]
    assert not the_group().is_resolved


def test_resolving_in_a_release_needs_the_change_permission(django_user_model):
    from django.contrib.auth.models import Permission
    from django.test import Client

    record("1.0")
    reader = django_user_model.objects.create_user("reader")
    reader.user_permissions.add(Permission.objects.get(codename="view_groupedmessage"))
    browser = Client()
    browser.force_login(reader)
    group = the_group()

    page = browser.post(reverse("sentry:resolve", args=[group.pk]), {"release": "2"})

    assert page.status_code == 403
    group.refresh_from_db()
    assert not group.is_resolved and group.resolved_in_release is None
    assert not Release.objects.filter(version="2").exists()


@override_settings(SENTRY_ADMINS=["ops@example.com"])
def test_only_the_newer_release_s_regression_is_mailed():
    from django.core import mail

    from sentry import notifications, postprocess

    record("1.0.0")
    group = resolve(the_group(), release="1.0.0")
    postprocess.flush()
    notifications.flush()
    mail.outbox.clear()

    record("0.9.0")
    record()
    postprocess.flush()
    notifications.flush()
    assert mail.outbox == []

    record("1.0.1")
    postprocess.flush()
    notifications.flush()
    assert len(mail.outbox) == 1
    assert "Regression" in mail.outbox[0].subject
    group.refresh_from_db()
    assert not group.is_resolved
