"""
Setting alerts up as a user who does not see every project (review 6).

A rule or channel with no project serves every project's errors, the
restricted ones too: one set up or changed by a user a project is hidden
from would send that project's errors -- messages, culprits, links -- to a
receiver of their choosing, past the member groups that hide it from them.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from sentry.alerts import store
from sentry.alerts.models import AlertChannel, AlertRule
from tests.ingest_factories import make_project

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.com/services/T000/B000/SECRETTOKEN"
MINE = "https://attacker.example.net/hook"


def setter(django_user_model, name):
    user = django_user_model.objects.create_user(name, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_project"))
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture(autouse=True)
def fresh_cache():
    store.forget()
    yield
    store.forget()


@pytest.fixture
def ledger():
    """A project restricted to the finance group."""
    project = make_project(5, slug="ledger")
    project.member_groups.add(Group.objects.create(name="finance"))
    return project


@pytest.fixture
def outsider(django_user_model, ledger):
    """Staff with sentry.change_project, not in finance: the ledger is hidden."""
    return setter(django_user_model, "outsider")[1]


def channel_form(**fields):
    return {"name": "mine", "kind": "webhook", "url": MINE, "enabled": "on", **fields}


def rule_form(**fields):
    return {
        "condition": "new",
        "channels": ["mine"],
        "level": "0",
        "enabled": "on",
        **fields,
    }


def test_a_user_a_project_is_hidden_from_sets_up_no_rule_for_every_project(
    outsider, ledger
):
    shop = make_project(6, slug="shop")
    response = outsider.post(reverse("sentry:alerts-channel-add"), channel_form())
    assert response.status_code == 400
    assert not AlertChannel.objects.exists()
    # Their own project's channel and rule are fine.
    response = outsider.post(
        reverse("sentry:alerts-channel-add"), channel_form(project=str(shop.pk))
    )
    assert response.status_code == 302

    response = outsider.post(reverse("sentry:alerts-rule-add"), rule_form())

    assert response.status_code == 400
    assert "every project" in response.content.decode()
    assert not AlertRule.objects.exists()
    response = outsider.post(
        reverse("sentry:alerts-rule-add"), rule_form(project=str(shop.pk))
    )
    assert response.status_code == 302


def test_nor_redirects_or_changes_one_set_up_for_every_project(outsider):
    channel = AlertChannel.objects.create(name="ops", kind="webhook", url=HOOK)
    rule = AlertRule.objects.create(channels=["ops"])

    response = outsider.post(
        reverse("sentry:alerts-channel-edit", args=[channel.pk]),
        {"kind": "webhook", "url": MINE, "enabled": "on"},
    )
    assert response.status_code == 403
    channel.refresh_from_db()
    assert channel.url == HOOK
    for url in [
        reverse("sentry:alerts-channel-delete", args=[channel.pk]),
        reverse("sentry:alerts-rule-edit", args=[rule.pk]),
        reverse("sentry:alerts-rule-delete", args=[rule.pk]),
    ]:
        assert outsider.post(url).status_code == 403, url
    assert AlertChannel.objects.exists() and AlertRule.objects.exists()


def test_a_member_of_every_restricted_project_still_sets_them_up(
    django_user_model, ledger
):
    user, client = setter(django_user_model, "accountant")
    user.groups.add(Group.objects.get(name="finance"))

    assert (
        client.post(reverse("sentry:alerts-channel-add"), channel_form()).status_code
        == 302
    )
    assert (
        client.post(reverse("sentry:alerts-rule-add"), rule_form()).status_code == 302
    )
    channel = AlertChannel.objects.get()
    assert (
        client.get(reverse("sentry:alerts-channel-edit", args=[channel.pk])).status_code
        == 200
    )


def test_the_alerts_page_offers_them_no_edit_of_a_row_for_every_project(
    outsider, ledger
):
    shop = make_project(6, slug="shop")
    every = AlertChannel.objects.create(name="ops", kind="webhook", url=HOOK)
    own = AlertChannel.objects.create(
        name="shop-ops", kind="webhook", url=HOOK, project=shop
    )
    rule = AlertRule.objects.create(channels=["ops"])

    html = outsider.get(reverse("sentry:alerts")).content.decode()

    assert reverse("sentry:alerts-channel-edit", args=[own.pk]) in html
    assert reverse("sentry:alerts-channel-edit", args=[every.pk]) not in html
    assert reverse("sentry:alerts-channel-delete", args=[every.pk]) not in html
    assert reverse("sentry:alerts-rule-edit", args=[rule.pk]) not in html
    # Still listed.
    assert ">ops<" in html
