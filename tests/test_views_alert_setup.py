"""Setting alerts up on the dashboard: channels and rules, saved; the log shown."""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sentry.alerts import config, store
from sentry.alerts.models import AlertChannel, AlertDelivery, AlertRule
from tests.dashboard_factories import XSS, make_group, staff_client
from tests.ingest_factories import make_project
from tests.receivers import Receiver

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.com/services/T000/B000/SECRETTOKEN"


@pytest.fixture
def browser(django_user_model):
    """Staff with sentry.change_project, the permission alerts are set up with."""
    user = django_user_model.objects.create_user("setter", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_project"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def fresh_cache():
    store.forget()
    yield
    store.forget()


def add_channel(browser, **fields):
    form = {"name": "ops", "kind": "webhook", "url": HOOK, "enabled": "on"}
    return browser.post(reverse("sentry:alerts-channel-add"), {**form, **fields})


def add_rule(browser, **fields):
    form = {"condition": "new", "channels": ["ops"], "level": "0", "enabled": "on"}
    return browser.post(reverse("sentry:alerts-rule-add"), {**form, **fields})


def page(browser):
    return browser.get(reverse("sentry:alerts")).content.decode()


# --- channels -------------------------------------------------------------------


def test_a_channel_is_created_and_shown_masked(browser):
    response = add_channel(browser, secret="s1gn1ng-k3y")

    assert response.status_code == 302
    assert response["Location"] == reverse("sentry:alerts") + "?done=channel-added"
    channel = AlertChannel.objects.get()
    assert (channel.name, channel.kind, channel.url) == ("ops", "webhook", HOOK)
    assert channel.secret == "s1gn1ng-k3y"
    body = page(browser)
    assert "https://hooks.example.com/…" in body
    assert "(signed)" in body
    assert "SECRETTOKEN" not in body and "s1gn1ng-k3y" not in body
    assert "ops" in config.usable()[0]


def test_the_edit_form_shows_neither_url_nor_secret_and_keeps_them_when_left_empty(
    browser,
):
    add_channel(browser, secret="s1gn1ng-k3y")
    channel = AlertChannel.objects.get()
    url = reverse("sentry:alerts-channel-edit", args=[channel.pk])

    form = browser.get(url).content.decode()
    assert "SECRETTOKEN" not in form and "s1gn1ng-k3y" not in form
    assert "https://hooks.example.com/…" in form
    response = browser.post(url, {"kind": "webhook", "url": "", "secret": ""})

    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.url, channel.secret, channel.enabled) == (
        HOOK,
        "s1gn1ng-k3y",
        False,
    )


def test_a_new_url_or_secret_replaces_the_saved_one(browser):
    add_channel(browser, secret="old")
    channel = AlertChannel.objects.get()
    url = reverse("sentry:alerts-channel-edit", args=[channel.pk])
    browser.post(
        url,
        {
            "kind": "webhook",
            "url": "https://other.example.com/x",
            "secret": "new",
            "enabled": "on",
        },
    )

    channel.refresh_from_db()
    assert (channel.url, channel.secret) == ("https://other.example.com/x", "new")


def test_a_channels_name_stays_as_made(browser):
    add_channel(browser)
    channel = AlertChannel.objects.get()
    browser.post(
        reverse("sentry:alerts-channel-edit", args=[channel.pk]),
        {"name": "renamed", "kind": "webhook", "enabled": "on"},
    )

    channel.refresh_from_db()
    assert channel.name == "ops"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://hooks.example.com/x", "Only http and https URLs"),
        ("javascript:alert(1)", "Only http and https URLs"),
        ("file:///etc/passwd", "Only http and https URLs"),
        ("https://user:pw@hooks.example.com/x", "user name or password"),
        ("https://user@hooks.example.com/x", "user name or password"),
        ("https:///nohost", "has no host"),
        ("https://[::1/x", "cannot be read"),
        ("https://hooks.example.com/" + "x" * 3000, "at most 2000"),
    ],
)
def test_a_url_that_cannot_be_sent_to_is_refused_at_save(browser, url, says):
    response = add_channel(browser, url=url)

    assert response.status_code == 400
    assert says in response.content.decode()
    assert not AlertChannel.objects.exists()


def test_a_url_is_required_for_a_webhook_and_addresses_for_mail(browser):
    assert add_channel(browser, url="").status_code == 400
    response = add_channel(browser, kind="mail", url="", to="not-an-address")
    assert response.status_code == 400
    assert add_channel(browser, kind="mail", url="", to="a@x.example, b@x.example")
    assert AlertChannel.objects.get().addresses == ["a@x.example", "b@x.example"]
    # A mail channel keeps no URL even when one was typed.
    assert AlertChannel.objects.get().url == ""


@override_settings(SENTRY_ALERT_CHANNELS={"ops": {"plugin": "mail", "to": "a@x.io"}})
def test_a_name_the_settings_declare_is_refused(browser):
    response = add_channel(browser)

    assert response.status_code == 400
    assert "SENTRY_ALERT_CHANNELS declares a channel of this name" in (
        response.content.decode()
    )


@pytest.mark.parametrize("name", [XSS, "a/b", "", "-x", "x" * 65, "é"])
def test_a_name_that_could_not_sit_in_a_url_or_rule_is_refused(browser, name):
    response = add_channel(browser, name=name)

    assert response.status_code == 400
    assert not AlertChannel.objects.exists()
    assert "<script>" not in response.content.decode()


def test_a_name_taken_by_another_saved_channel_is_refused(browser):
    add_channel(browser)
    response = add_channel(browser)

    assert response.status_code == 400
    assert AlertChannel.objects.count() == 1


def test_a_huge_secret_or_address_list_is_refused(browser):
    assert add_channel(browser, secret="k" * 5000).status_code == 400
    to = ",".join(f"a{n}@x.example" for n in range(500))
    assert add_channel(browser, kind="mail", url="", to=to).status_code == 400
    assert not AlertChannel.objects.exists()


def test_a_channel_a_rule_sends_to_is_not_deleted(browser):
    add_channel(browser)
    add_rule(browser)
    channel = AlertChannel.objects.get()
    url = reverse("sentry:alerts-channel-delete", args=[channel.pk])

    response = browser.post(url)
    assert response.status_code == 409
    assert "rule" in response.content.decode()
    assert AlertChannel.objects.exists()
    browser.post(
        reverse("sentry:alerts-rule-delete", args=[AlertRule.objects.get().pk])
    )
    assert browser.post(url).status_code == 302
    assert not AlertChannel.objects.exists()
    assert config.usable() == ({}, [])


def test_deleting_and_editing_need_post(browser):
    add_channel(browser)
    channel = AlertChannel.objects.get()

    url = reverse("sentry:alerts-channel-delete", args=[channel.pk])
    assert browser.get(url).status_code == 405
    assert AlertChannel.objects.exists()


# --- rules ----------------------------------------------------------------------


def test_a_rule_is_created_with_its_filters_and_used_at_once(browser):
    add_channel(browser)
    response = add_rule(
        browser,
        condition="regression",
        level="40",
        environment="production",
        tags="team=core\nregion = eu",
    )

    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert rule.when == "regression"
    assert rule.tags == {"team": "core", "region": "eu"}
    [used] = config.usable()[1]
    assert (used.key, used.when, used.level, used.environment) == (
        f"db:{rule.pk}",
        "regression",
        40,
        "production",
    )
    body = page(browser)
    assert "A regression" in body and "tag team = core" in body


def test_a_rule_has_a_rate_limit_and_a_flood_limit(browser):
    add_channel(browser)
    assert add_rule(browser, condition="regression", every="30").status_code == 302
    assert add_rule(browser, condition="new", flood_limit="3").status_code == 302
    limited, summed = config.usable()[1]
    assert (limited.when, limited.every) == ("regression", 30)
    assert (summed.when, summed.flood_limit) == ("new", 3)
    body = page(browser)
    assert "30 min per error" in body and "3 a minute" in body
    # Shown again by the edit form.
    rule = AlertRule.objects.get(every=30)
    form = browser.get(reverse("sentry:alerts-rule-edit", args=[rule.pk]))
    assert 'name="every" value="30"' in form.content.decode()


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        # A new error happens once: a limit per error means nothing.
        ({"condition": "new", "every": "30"}, "every"),
        ({"condition": "regression", "flood_limit": "3"}, "flood_limit"),
        ({"condition": "regression", "every": "-1"}, "greater than or equal"),
    ],
)
def test_limits_that_mean_nothing_are_refused(browser, fields, says):
    add_channel(browser)
    response = add_rule(browser, **fields)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not AlertRule.objects.exists()


def test_a_disabled_rule_is_kept_and_not_used(browser):
    add_channel(browser)
    add_rule(browser)
    rule = AlertRule.objects.get()
    response = browser.post(
        reverse("sentry:alerts-rule-edit", args=[rule.pk]),
        {"condition": "new", "channels": ["ops"], "level": "0"},
    )

    assert response.status_code == 302
    assert AlertRule.objects.get().enabled is False
    assert config.usable()[1] == []
    assert "disabled" in page(browser)


def test_the_edit_form_shows_the_rule_as_saved(browser):
    add_channel(browser)
    add_rule(browser, release="1.2.3", tags="team=core")
    rule = AlertRule.objects.get()

    form = browser.get(reverse("sentry:alerts-rule-edit", args=[rule.pk]))
    body = form.content.decode()
    assert 'value="1.2.3"' in body
    assert "team=core" in body


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"channels": ["nope"]}, "nope"),
        ({"channels": []}, "required"),
        ({"condition": "always"}, "always"),
        ({"tags": "no equals sign"}, "name=value"),
        ({"tags": "\n".join(f"t{n}=v" for n in range(30))}, "At most 20"),
        ({"environment": "e" * 201}, "at most 200"),
        ({"level": "7"}, "7"),
    ],
)
def test_a_rule_that_cannot_be_read_is_refused_with_the_reason(browser, fields, says):
    add_channel(browser)
    response = add_rule(browser, **fields)

    assert response.status_code == 400
    assert says in response.content.decode()
    assert not AlertRule.objects.exists()


def test_the_form_offers_the_conditions_the_rules_understand(browser):
    body = browser.get(reverse("sentry:alerts-rule-add")).content.decode()

    for when in config.WHEN:
        assert f'value="{when}"' in body


@override_settings(
    SENTRY_ALERT_CHANNELS={"declared": {"plugin": "mail", "to": "a@x.io"}}
)
def test_a_rule_may_send_to_a_channel_of_the_settings(browser):
    assert add_rule(browser, channels=["declared"]).status_code == 302
    assert config.usable()[1][0].channels == ("declared",)


def test_a_project_channel_serves_its_project_rules_only(browser):
    shop = make_project(5, slug="shop")
    add_channel(browser, project=str(shop.pk))

    response = add_rule(browser)
    assert response.status_code == 400
    assert "serves its own project" in response.content.decode()
    assert add_rule(browser, project=str(shop.pk)).status_code == 302


# --- projects the user may not see ----------------------------------------------


def test_channels_and_rules_of_a_hidden_project_are_neither_shown_nor_reachable(
    browser,
):
    ledger = make_project(5, slug="ledger")
    ledger.member_groups.add(Group.objects.create(name="finance"))
    channel = AlertChannel.objects.create(
        name="ledger-ops", kind="webhook", url=HOOK, project=ledger
    )
    rule = AlertRule.objects.create(channels=["ledger-ops"], project=ledger)

    assert "ledger" not in page(browser)
    urls = [
        reverse("sentry:alerts-channel-edit", args=[channel.pk]),
        reverse("sentry:alerts-channel-delete", args=[channel.pk]),
        reverse("sentry:alerts-rule-edit", args=[rule.pk]),
        reverse("sentry:alerts-rule-delete", args=[rule.pk]),
        reverse("sentry:alerts-test", args=["ledger-ops"]),
    ]
    for url in urls:
        assert browser.post(url).status_code == 404, url
    assert AlertChannel.objects.exists() and AlertRule.objects.exists()
    # Nor can a new channel or rule be put in it.
    response = add_channel(browser, name="mine", project=str(ledger.pk))
    assert response.status_code == 400
    assert not AlertChannel.objects.filter(name="mine").exists()


# --- permissions ----------------------------------------------------------------


def write_urls():
    channel = AlertChannel.objects.create(name="ops", kind="webhook", url=HOOK)
    rule = AlertRule.objects.create(channels=["ops"])
    return [
        reverse("sentry:alerts-channel-add"),
        reverse("sentry:alerts-channel-edit", args=[channel.pk]),
        reverse("sentry:alerts-channel-delete", args=[channel.pk]),
        reverse("sentry:alerts-rule-add"),
        reverse("sentry:alerts-rule-edit", args=[rule.pk]),
        reverse("sentry:alerts-rule-delete", args=[rule.pk]),
        reverse("sentry:alerts-test", args=["ops"]),
    ]


def test_staff_without_the_permission_get_403_on_every_write_url():
    urls = write_urls()
    staff = staff_client()
    for url in urls:
        assert staff.post(url, {"name": "x", "kind": "mail"}).status_code == 403, url
        assert staff.get(url).status_code == 403, url
    assert list(AlertChannel.objects.values_list("name", "url")) == [("ops", HOOK)]
    assert AlertRule.objects.count() == 1
    body = staff.get(reverse("sentry:alerts")).content.decode()
    assert "New channel" not in body and "Delete" not in body


def test_a_post_without_a_csrf_token_is_refused(django_user_model):
    user = django_user_model.objects.create_user("setter", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_project"))
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)

    response = add_channel(strict)
    assert response.status_code == 403
    assert not AlertChannel.objects.exists()


# --- the test button, the log ---------------------------------------------------


def test_the_test_button_sends_to_a_saved_channel(browser):
    with (
        Receiver() as receiver,
        override_settings(SENTRY_ALERTS_ALLOWED_NETWORKS=["127.0.0.1/32"]),
    ):
        AlertChannel.objects.create(
            name="ops", kind="webhook", url=receiver.url(), enabled=False
        )
        response = browser.post(reverse("sentry:alerts-test", args=["ops"]))

    assert "sent, answered 200" in response.content.decode()
    assert len(receiver.requests) == 1


def test_the_log_lists_the_newest_deliveries_escaped(browser):
    group = make_group("disk full")
    for n in range(55):
        AlertDelivery.objects.create(channel=f"c{n}", ok=True, status=200, group=group)
    AlertDelivery.objects.create(
        channel=XSS[:64], rule="db:7", ok=False, status=500, error=XSS, attempts=3
    )

    body = page(browser)
    assert "<script>window.__xss" not in body
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in body
    assert "HTTP 500" in body and "rule 7" in body
    assert f'href="/sentry/group/{group.pk}/"' in body
    # The newest 50: the hostile one, then c54 down to c6.
    assert ">c54<" in body and ">c6<" in body
    assert ">c5<" not in body


def test_a_delivery_about_a_hidden_group_is_shown_without_it(browser):
    ledger = make_project(5, slug="ledger")
    ledger.member_groups.add(Group.objects.create(name="finance"))
    group = make_group("ledger broke", project=ledger)
    AlertDelivery.objects.create(channel="ops", ok=True, status=200, group=group)

    body = page(browser)
    assert "(hidden)" in body
    assert f"/group/{group.pk}/" not in body


def test_the_page_costs_the_same_queries_with_many_rows(browser):
    def fill(n):
        for i in range(n):
            AlertChannel.objects.create(name=f"ch{n}-{i}", kind="webhook", url=HOOK)
            AlertRule.objects.create(channels=[f"ch{n}-{i}"])
            AlertDelivery.objects.create(
                channel=f"ch{n}-{i}", ok=True, group=make_group(f"g{n}-{i}")
            )

    fill(1)
    with CaptureQueriesContext(connection) as few:
        page(browser)
    fill(20)
    with CaptureQueriesContext(connection) as many:
        page(browser)
    assert len(many) == len(few)


@override_settings(
    SENTRY_ALERT_CHANNELS={"a/b": {"plugin": "mail", "to": ["x@example.com"]}}
)
def test_a_declared_name_no_test_url_can_carry_still_lets_the_page_show(browser):
    response = browser.get(reverse("sentry:alerts"))

    assert response.status_code == 200
    assert "a/b" in response.content.decode()


def test_the_page_title_and_body_hold_no_markup_of_the_page(browser):
    body = page(browser)
    title = re.search(r"<title>(.*?)</title>", body, re.S)[1]
    assert "<" not in title and "Delivery log" not in title
    assert re.search(r'<body[^>]*class="[^"<]*alerts[^"<]*"', body)
    assert body.count("<h2>Delivery log</h2>") == 1
