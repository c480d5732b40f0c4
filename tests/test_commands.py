"""Management commands."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from sentry.models import Message
from tests.dashboard_factories import make_group, make_message


@pytest.mark.django_db
def test_sentry_test_records_an_error_and_says_where_to_see_it():
    out = StringIO()
    with override_settings(SENTRY_URL_PREFIX="https://errors.example.com"):
        call_command("sentry_test", stdout=out)

    message = Message.objects.get()
    assert message.class_name == "SentryTestError"
    text = out.getvalue()
    assert message.message_id in text
    assert f"https://errors.example.com{message.get_absolute_url()}" in text


@pytest.mark.django_db
@override_settings(SENTRY_CLIENT="sentry.client.base.LoggingSentryClient")
def test_sentry_test_with_the_logging_client_names_the_logger():
    out = StringIO()
    call_command("sentry_test", stdout=out)

    assert "sentry.events" in out.getvalue()
    assert not Message.objects.exists()


@pytest.mark.django_db
@override_settings(SENTRY_CLIENT="tests.test_client.ExplodingClient")
def test_sentry_test_fails_loudly_when_nothing_is_recorded():
    with pytest.raises(CommandError, match="Nothing was recorded"):
        call_command("sentry_test", stdout=StringIO())


def age(days):
    import datetime as dt

    from django.utils import timezone

    return timezone.now() - dt.timedelta(days=days)


def record(message, days_ago=0, **kwargs):
    from sentry.client.models import client

    return client.create_from_text(message, datetime=age(days_ago), **kwargs)


@pytest.mark.django_db
@override_settings(SENTRY_THRASHING_LIMIT=0)
def test_cleanup_deletes_old_occurrences_and_groups_not_seen_since():
    from sentry.models import (
        GroupedMessage,
        MessageCountByMinute,
        MessageFilterValue,
        ProjectCountByHour,
    )

    record("old and gone", days_ago=40)
    record("old and gone", days_ago=35)
    record("still active", days_ago=40)
    record("still active", days_ago=1)

    out = StringIO()
    call_command("cleanup_sentry", "--days", "30", "--batch-size", "1", stdout=out)

    assert list(GroupedMessage.objects.values_list("message", "times_seen")) == [
        ("still active", 2)
    ]
    assert Message.objects.count() == 1
    assert Message.objects.get().datetime > age(30)
    group = GroupedMessage.objects.get()
    # The counters still count every occurrence ever seen.
    assert (
        MessageFilterValue.objects.get(group=group, key="server_name").times_seen == 2
    )
    # Trend rows older than the cut-off go with the occurrences.
    assert MessageCountByMinute.objects.filter(group=group).count() == 1
    assert [count.date > age(30) for count in ProjectCountByHour.objects.all()] == [
        True
    ]
    assert "Deleted 3 occurrences." in out.getvalue()


@pytest.mark.django_db
@override_settings(SENTRY_THRASHING_LIMIT=0)
def test_cleanup_can_be_limited_to_a_logger_and_a_level():
    from sentry.models import ProjectCountByHour

    record("shop error", days_ago=40, logger="shop")
    record("shop warning", days_ago=40, logger="shop", level=30)
    record("other error", days_ago=40, logger="other")

    call_command(
        "cleanup_sentry",
        "--days",
        "30",
        "--logger",
        "shop",
        "--level",
        "error",
        stdout=StringIO(),
    )

    assert sorted(Message.objects.values_list("message", flat=True)) == [
        "other error",
        "shop warning",
    ]
    # A project's hours mix loggers and levels: they stay.
    assert sum(ProjectCountByHour.objects.values_list("times_seen", flat=True)) == 3


@pytest.mark.django_db
@override_settings(SENTRY_THRASHING_LIMIT=0)
def test_cleanup_keeps_the_newest_occurrences_of_each_group():
    from sentry.models import GroupedMessage

    ids = [record("crowded", days_ago=n) for n in (5, 4, 3, 2, 1)]
    record("quiet")

    call_command("cleanup_sentry", "--days", "30", "--keep", "2", stdout=StringIO())

    crowded = GroupedMessage.objects.get(message="crowded")
    assert set(crowded.message_set.values_list("message_id", flat=True)) == set(
        ids[-2:]
    )
    assert crowded.times_seen == 5
    assert Message.objects.filter(message="quiet").count() == 1


@pytest.mark.django_db
@override_settings(SENTRY_THRASHING_LIMIT=0, SENTRY_MAX_OCCURRENCES_PER_GROUP=1)
def test_cleanup_applies_the_max_occurrences_setting_and_is_safe_to_repeat():
    for n in range(3):
        record("bounded", days_ago=n)

    call_command("cleanup_sentry", stdout=StringIO())
    call_command("cleanup_sentry", stdout=StringIO())

    assert Message.objects.count() == 1


def test_cleanup_refuses_an_unknown_level():
    with pytest.raises(CommandError, match="Unknown level"):
        call_command("cleanup_sentry", "--level", "loud", stdout=StringIO())


@pytest.mark.django_db
def test_createtoken_prints_a_token_that_authenticates(django_user_model):
    from sentry.api.tokens import ApiToken

    user = django_user_model.objects.create_user("ops", is_staff=True)
    out = StringIO()
    call_command(
        "sentry_createtoken", "ops", "--label", "grafana", stdout=out, stderr=StringIO()
    )

    token = out.getvalue().strip()
    assert ApiToken.objects.authenticate(token, "feed:read") == user
    assert ApiToken.objects.get().label == "grafana"


@pytest.mark.django_db
def test_createtoken_refuses_users_without_access(django_user_model):
    django_user_model.objects.create_user("member")
    with pytest.raises(CommandError, match="may not see the dashboard"):
        call_command("sentry_createtoken", "member", stdout=StringIO())
    with pytest.raises(CommandError, match="No user"):
        call_command("sentry_createtoken", "nobody", stdout=StringIO())


# --- projects -----------------------------------------------------------------


def in_project(slug, message, days_ago=0, **kwargs):
    """Record ``message`` in project ``slug`` as the site's own error."""
    with override_settings(SENTRY_PROJECT=slug):
        return record(message, days_ago=days_ago, **kwargs)


def stored():
    """Return ``(project slug, message)`` of every stored occurrence."""
    return sorted(Message.objects.values_list("group__project__slug", "message"))


def billing_and_shop(**billing_fields):
    from tests.ingest_factories import make_project

    make_project(2, name="Billing worker", slug="billing", **billing_fields)
    make_project(3, name="Shop", slug="shop")


@pytest.mark.django_db
@override_settings(SENTRY_THRASHING_LIMIT=0)
@pytest.mark.parametrize("named", ["billing", "2"])
def test_cleanup_can_be_limited_to_one_project_by_slug_or_id(named):
    from sentry.models import GroupedMessage

    billing_and_shop()
    in_project("billing", "billing old", days_ago=40)
    in_project("billing", "billing new", days_ago=1)
    in_project("shop", "shop old", days_ago=40)
    record("site old", days_ago=40)

    call_command(
        "cleanup_sentry", "--days", "30", "--project", named, stdout=StringIO()
    )

    assert stored() == [
        ("billing", "billing new"),
        ("default", "site old"),
        ("shop", "shop old"),
    ]
    assert sorted(GroupedMessage.objects.values_list("project__slug", flat=True)) == [
        "billing",
        "default",
        "shop",
    ]


@pytest.mark.django_db
@override_settings(SENTRY_THRASHING_LIMIT=0)
def test_a_projects_retention_replaces_days_for_its_errors():
    from sentry.models import GroupedMessage, Project

    billing_and_shop(retention_days=90)
    Project.objects.filter(slug="shop").update(retention_days=7)
    in_project("billing", "billing 40 days", days_ago=40)
    in_project("billing", "billing 100 days", days_ago=100)
    in_project("shop", "shop 10 days", days_ago=10)
    in_project("shop", "shop 2 days", days_ago=2)
    record("site 40 days", days_ago=40)
    record("site 10 days", days_ago=10)

    call_command("cleanup_sentry", "--days", "30", stdout=StringIO())

    assert stored() == [
        ("billing", "billing 40 days"),
        ("default", "site 10 days"),
        ("shop", "shop 2 days"),
    ]
    # Groups not seen within their project's retention went too.
    assert sorted(GroupedMessage.objects.values_list("message", flat=True)) == [
        "billing 40 days",
        "shop 2 days",
        "site 10 days",
    ]


@pytest.mark.django_db
@override_settings(SENTRY_THRASHING_LIMIT=0)
def test_cleanup_of_one_project_honours_its_retention():
    billing_and_shop(retention_days=90)
    in_project("billing", "billing 40 days", days_ago=40)
    in_project("billing", "billing 100 days", days_ago=100)
    record("site 40 days", days_ago=40)

    call_command("cleanup_sentry", "--days", "30", "--project", "billing")

    assert stored() == [("billing", "billing 40 days"), ("default", "site 40 days")]


@pytest.mark.django_db
@override_settings(SENTRY_THRASHING_LIMIT=0)
def test_cleanup_of_one_project_leaves_the_others_dictionaries_alone():
    from sentry.models import CompressionDictionary

    billing_and_shop()
    # The same error in two projects: two groups, two dictionaries, each
    # made of its group's first occurrence (the one holding the note).
    for slug in ("billing", "shop"):
        in_project(slug, "same error", days_ago=40, data={"note": f"{slug} first"})
        in_project(slug, "same error", days_ago=1, data={"note": "later"})
    before = {d.project_id: bytes(d.data) for d in CompressionDictionary.objects.all()}
    assert b"shop first" in before[3]
    assert b"billing first" in before[2]

    call_command("cleanup_sentry", "--days", "30", "--project", "shop")

    after = {d.project_id: bytes(d.data) for d in CompressionDictionary.objects.all()}
    # Shop's first occurrence is gone, and nothing of it is kept.
    assert after[2] == before[2]
    assert b"shop first" not in after[3]
    assert b"later" in after[3]
    assert stored() == [("billing", "same error")] * 2 + [("shop", "same error")]
    notes = sorted(
        (m.group.project.slug, m.data["extra"]["note"])
        for m in Message.objects.select_related("group__project")
    )
    assert notes == [
        ("billing", "billing first"),
        ("billing", "later"),
        ("shop", "later"),
    ]


@pytest.mark.django_db
def test_cleanup_refuses_a_project_that_does_not_exist():
    with pytest.raises(CommandError, match="No project has the id or slug 'nope'"):
        call_command("cleanup_sentry", "--project", "nope", stdout=StringIO())
    with pytest.raises(CommandError, match="No project has the id or slug '99'"):
        call_command("cleanup_sentry", "--project", "99", stdout=StringIO())


@pytest.mark.django_db
def test_fill_occurrences_copies_release_environment_and_user_out_of_old_rows():
    group = make_group("x")
    old = [
        make_message(
            group,
            data={"release": f"1.{n}", "environment": "staging", "user": {"id": n}},
        )
        for n in range(5)
    ]
    nothing = make_message(group, data={"extra": {"k": "v"}})
    odd = make_message(group, data={"release": ["not", "text"], "user": "jane"})
    new = make_message(group, data={"release": "9.9"}, release="2.0", user="bob")
    out = StringIO()

    call_command("sentry_fill_occurrences", "--batch", "2", stdout=out)

    rows = {
        m.pk: (m.release, m.environment, m.user)
        for m in Message.objects.only("release", "environment", "user")
    }
    assert [rows[m.pk] for m in old] == [
        (f"1.{n}", "staging", str(n)) for n in range(5)
    ]
    assert rows[nothing.pk] == rows[odd.pk] == (None, None, None)
    # A row with its columns already set is left as it is.
    assert rows[new.pk] == ("2.0", None, "bob")
    assert out.getvalue() == (
        f"Filled 5 of the 8 occurrences read and linked 0 values (up to id {new.pk}).\n"
    )
    # The search of the occurrences tab finds them now.
    assert Message.objects.filter(environment="staging").count() == 5

    again = StringIO()
    call_command("sentry_fill_occurrences", "--after", str(old[2].pk), stdout=again)
    assert again.getvalue() == (
        f"Filled 0 of the 5 occurrences read and linked 0 values (up to id {new.pk}).\n"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("batch", ["0", "10001", "-5"])
def test_fill_occurrences_refuses_a_batch_out_of_range(batch):
    with pytest.raises(CommandError, match="--batch must be from 1 to 10,000"):
        call_command("sentry_fill_occurrences", "--batch", batch, stdout=StringIO())
