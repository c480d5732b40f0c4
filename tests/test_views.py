"""
Who may see and change what: every dashboard URL, for every kind of visitor.

The access matrix walks the URL patterns of ``sentry.urls`` itself, so a new
dashboard URL cannot be added without being classified here.
"""

import re

import pytest
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from sentry.models import GroupedMessage
from tests.dashboard_factories import (
    XSS,
    hostile_event_data,
    make_group,
    make_message,
    member_client,
    record_event,
    staff_client,
)

pytestmark = pytest.mark.django_db

#: name -> kind. "page": HTML, read-only; "json": JSON, read-only;
#: "action": changes state (POST only, never public); "auth": log in/out.
KINDS = {
    "index": "page",
    "search": "page",
    "group": "page",
    "messages": "page",
    "message": "page",
    "poll": "json",
    "message_json": "json",
    "resolve": "action",
    "unresolve": "action",
    "bulk": "action",
    "login": "auth",
    "logout": "auth",
}


def dashboard_patterns():
    """Yield ``(name, pattern)`` for every URL of ``sentry.urls`` (recursively)."""
    resolver = get_resolver("sentry.urls")

    def walk(patterns):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns)
            elif isinstance(entry, URLPattern):
                module = getattr(entry.callback, "__module__", "")
                # The ingest endpoints are their own trust boundary (keys,
                # not sessions) and are tested with the ingest code.
                if not module.startswith("sentry.ingest"):
                    yield entry.name, entry

    return list(walk(resolver.url_patterns))


def url_for(name, pattern, message):
    """Reverse ``name`` with arguments taken from real rows."""
    values = {"group_id": message.group_id, "message_id": message.message_id}
    converters = getattr(pattern.pattern, "converters", {})
    kwargs = {key: values[key] for key in converters}
    return reverse(f"sentry:{name}", kwargs=kwargs)


@pytest.fixture
def message():
    return record_event("dashboard <b>x</b>", data={"extra": {"k": "<i>v</i>"}})


@pytest.fixture
def urls(message):
    return [(name, url_for(name, p, message)) for name, p in dashboard_patterns()]


def test_every_dashboard_url_is_classified():
    names = [name for name, _ in dashboard_patterns()]

    assert len(names) == len(set(names)), "each URL needs a name of its own"
    assert sorted(names) == sorted(KINDS)


def is_login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(
        reverse("sentry:login") + "?next="
    )


def is_json_refusal(response):
    return (
        response.status_code == 403
        and response["Content-Type"] == "application/json"
        and response.json() == {"error": "forbidden"}
    )


def test_anonymous_visitors_are_sent_to_log_in(urls):
    anonymous = Client()
    for name, url in urls:
        kind = KINDS[name]
        if kind == "page":
            assert is_login_redirect(anonymous.get(url)), name
        elif kind == "json":
            assert is_json_refusal(anonymous.get(url)), name
        elif kind == "action":
            assert is_login_redirect(anonymous.post(url, {"op": "resolve-all"})), name
            assert is_json_refusal(
                anonymous.post(url, headers={"Accept": "application/json"})
            ), name
    assert GroupedMessage.objects.get().status == GroupedMessage.STATUS_UNRESOLVED


def test_users_who_are_not_staff_are_refused(urls):
    member = member_client()
    for name, url in urls:
        kind = KINDS[name]
        if kind == "page":
            response = member.get(url)
            assert response.status_code == 403, name
            assert b"Access denied" in response.content
        elif kind == "json":
            assert is_json_refusal(member.get(url)), name
        elif kind == "action":
            assert member.post(url, {"op": "resolve-all"}).status_code == 403, name
    assert GroupedMessage.objects.get().status == GroupedMessage.STATUS_UNRESOLVED


def test_inactive_staff_are_refused(urls, django_user_model):
    user = django_user_model.objects.create_user("gone", is_staff=True)
    browser = Client()
    browser.force_login(user)
    user.is_active = False
    user.save()
    for name, url in urls:
        if KINDS[name] in ("page", "json"):
            assert browser.get(url).status_code in (302, 403), name


def test_staff_see_every_page_and_may_act(urls):
    staff = staff_client()
    for name, url in urls:
        kind = KINDS[name]
        if kind == "page":
            assert staff.get(url, follow=True).status_code == 200, name
        elif kind == "json":
            response = staff.get(url)
            assert response.status_code == 200, name
            assert response["Content-Type"].startswith("application/json")
        elif kind == "action":
            assert staff.get(url).status_code == 405, name
            assert staff.post(url, {"op": "resolve-all"}).status_code == 302, name


def test_the_view_permission_is_enough_to_read(urls, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("reader")
    user.user_permissions.add(Permission.objects.get(codename="view_groupedmessage"))
    browser = Client()
    browser.force_login(user)
    for name, url in urls:
        if KINDS[name] == "page":
            assert browser.get(url, follow=True).status_code == 200, name


@override_settings(SENTRY_PUBLIC=True)
def test_public_mode_opens_the_read_only_urls_only(urls):
    anonymous = Client()
    for name, url in urls:
        kind = KINDS[name]
        if kind in ("page", "json"):
            assert anonymous.get(url, follow=True).status_code == 200, name
        elif kind == "action":
            assert is_login_redirect(anonymous.post(url, {"op": "resolve-all"})), name
    member = member_client()
    for name, url in urls:
        if KINDS[name] == "action":
            assert member.post(url, {"op": "resolve-all"}).status_code == 403, name
    assert GroupedMessage.objects.get().status == GroupedMessage.STATUS_UNRESOLVED


def test_dashboard_responses_carry_security_headers(urls):
    staff = staff_client()
    anonymous = Client()
    responses = [staff.get(url) for _, url in urls] + [
        anonymous.get(reverse("sentry:index")),
        anonymous.get(reverse("sentry:login")),
        member_client().get(reverse("sentry:index")),
    ]
    for response in responses:
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        policy = response["Content-Security-Policy"]
        assert "default-src 'none'" in policy
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@override_settings(STATIC_URL="https://cdn.example.com/static/")
def test_static_files_on_another_origin_stay_allowed():
    response = staff_client().get(reverse("sentry:index"))

    assert (
        "script-src 'self' https://cdn.example.com;"
        in (response["Content-Security-Policy"])
    )


def test_pages_have_no_inline_script_style_or_event_handler(message):
    staff = staff_client()
    message = record_event("x", data=hostile_event_data())
    pages = [
        reverse("sentry:index"),
        reverse("sentry:login"),
        reverse("sentry:group", args=[message.group_id]),
        reverse("sentry:messages", args=[message.group_id]),
        message.get_absolute_url(),
    ]
    for url in pages:
        html = staff.get(url).content.decode()
        for script in re.findall(r"<script[^>]*>", html):
            assert re.fullmatch(r'<script src="[^"]+" defer>', script), script
        assert " style=" not in html
        assert not re.search(r"<[^>]+\son\w+\s*=", html), url


def test_the_login_page_logs_staff_in_and_out(django_user_model):
    django_user_model.objects.create_user("jo", password="pw", is_staff=True)
    browser = Client()

    response = browser.post(
        reverse("sentry:login"), {"username": "jo", "password": "pw"}
    )

    assert response.status_code == 302
    assert browser.get(reverse("sentry:index")).status_code == 200
    # A GET (a link, an image) never logs out.
    browser.get(reverse("sentry:logout"))
    assert browser.get(reverse("sentry:index")).status_code == 200
    browser.post(reverse("sentry:logout"))
    assert is_login_redirect(browser.get(reverse("sentry:index")))


def test_the_login_page_returns_to_the_page_asked_for(django_user_model):
    django_user_model.objects.create_user("jo", password="pw", is_staff=True)
    group = make_group("x")
    wanted = reverse("sentry:group", args=[group.pk])
    browser = Client()

    login = browser.get(wanted, follow=True)
    response = browser.post(
        login.redirect_chain[-1][0], {"username": "jo", "password": "pw"}
    )

    assert response["Location"] == wanted


def test_event_values_are_escaped_on_every_page():
    staff = staff_client()
    message = record_event(
        XSS, class_name=XSS, view=XSS, logger="x", data=hostile_event_data()
    )
    make_message(message.group, message=XSS)
    pages = [
        reverse("sentry:index"),
        reverse("sentry:index") + "?q=script",
        reverse("sentry:group", args=[message.group_id]),
        reverse("sentry:messages", args=[message.group_id]),
        message.get_absolute_url(),
    ]
    for url in pages:
        html = staff.get(url).content.decode()
        assert "<script>window" not in html, url
        assert "<img src=x" not in html, url
        assert 'href="javascript:' not in html, url
        assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in html, url
    poll = staff.get(reverse("sentry:poll")).content.decode()
    assert "<script>" not in poll  # escaped as \\u003c, as json_script does
