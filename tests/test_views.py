"""The dashboard pages that ship with the core: access and content."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from sentry.client.models import client as sentry_client
from sentry.models import GroupedMessage, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def message():
    return Message.objects.get(
        message_id=sentry_client.create_from_text("dashboard <b>x</b>")
    )


@pytest.fixture
def staff(django_user_model):
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def member(django_user_model):
    user = django_user_model.objects.create_user("member", password="pw")
    browser = Client()
    browser.force_login(user)
    return browser


def read_urls(message):
    return [
        reverse("sentry:index"),
        reverse("sentry:group", args=[message.group_id]),
        reverse("sentry:message", args=[message.group_id, message.message_id]),
    ]


def test_anonymous_users_are_sent_to_the_login_page(message):
    for url in read_urls(message):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("sentry:login"))


def test_non_staff_users_are_refused(member, message):
    for url in read_urls(message):
        assert member.get(url).status_code == 403


def test_staff_users_see_the_error_escaped(staff, message):
    for url in read_urls(message):
        response = staff.get(url)
        assert response.status_code == 200
        assert b"dashboard &lt;b&gt;x&lt;/b&gt;" in response.content
        assert b"<b>x</b>" not in response.content


@override_settings(SENTRY_PUBLIC=True)
def test_public_mode_opens_the_read_only_pages_only(message):
    anonymous = Client()
    for url in read_urls(message):
        assert anonymous.get(url).status_code == 200
    response = anonymous.post(reverse("sentry:resolve", args=[message.group_id]))
    assert response.status_code == 302
    assert GroupedMessage.objects.get().status == 0


def test_resolve_and_unresolve_need_a_post(staff, message):
    url = reverse("sentry:resolve", args=[message.group_id])
    assert staff.get(url).status_code == 405
    staff.post(url)
    assert GroupedMessage.objects.get().status == GroupedMessage.STATUS_RESOLVED
    assert GroupedMessage.objects.get().resolved_at is not None
    staff.post(url, {"unresolve": "1"})
    assert GroupedMessage.objects.get().status == GroupedMessage.STATUS_UNRESOLVED


def test_resolve_is_protected_against_csrf(django_user_model, message):
    user = django_user_model.objects.create_user("s2", password="pw", is_staff=True)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post(reverse("sentry:resolve", args=[message.group_id]))
    assert response.status_code == 403
    assert GroupedMessage.objects.get().status == GroupedMessage.STATUS_UNRESOLVED


def test_the_stream_filters_by_status(staff, message):
    GroupedMessage.objects.update(status=1)
    assert b"dashboard" not in staff.get(reverse("sentry:index")).content
    assert b"dashboard" in staff.get(reverse("sentry:index") + "?status=1").content


def test_the_login_page_logs_staff_in(django_user_model):
    django_user_model.objects.create_user("jo", password="pw", is_staff=True)
    browser = Client()
    response = browser.post(
        reverse("sentry:login"), {"username": "jo", "password": "pw"}
    )
    assert response.status_code == 302
    assert browser.get(reverse("sentry:index")).status_code == 200
    browser.post(reverse("sentry:logout"))
    assert browser.get(reverse("sentry:index")).status_code == 302


def test_the_stream_filters_by_level_logger_server_and_site(staff, settings):
    sentry_client.create_from_text("warned", level=30, logger="shop")
    sentry_client.create_from_text("on web-9", server_name="web-9")
    settings.SENTRY_SITE = "blog"
    sentry_client.create_from_text("on the blog")
    index = reverse("sentry:index")

    def titles(query):
        page = staff.get(index + query).context["page"]
        return sorted(group.message for group in page)

    assert titles("?level=30") == ["warned"]
    assert titles("?logger=shop") == ["warned"]
    assert titles("?server_name=web-9") == ["on web-9"]
    assert titles("?site=blog") == ["on the blog"]
    assert titles("?level=40&server_name=test-server") == ["on the blog"]
    assert titles("?level=30&server_name=web-9") == []
    assert len(titles("")) == 3


def test_filter_choices_come_from_the_stored_values(staff):
    sentry_client.create_from_text("x", server_name="web-3", logger="shop")
    filters = {
        f["column"]: f for f in staff.get(reverse("sentry:index")).context["filters"]
    }
    assert "web-3" in filters["server_name"]["choices"]
    assert "shop" in filters["logger"]["choices"]
    assert filters["level"]["choices"]["40"] == "error"
    assert filters["status"]["value"] == "0"
