"""
Who may see and change what: every dashboard URL, for every kind of visitor.

The access matrix walks the URL patterns of ``sentry.urls`` itself, so a new
dashboard URL cannot be added without being classified here.
"""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from sentry.alerts.models import AlertChannel, AlertRule
from sentry.api.tokens import ApiToken
from sentry.models import GroupActivity, GroupedMessage, Project, ProjectKey, Release
from sentry.plugins.testing import plugin_installed
from tests.dashboard_factories import (
    XSS,
    count_minute,
    hostile_event_data,
    make_group,
    make_message,
    member_client,
    record_event,
    staff_client,
)
from tests.ingest_factories import make_key, make_project

pytestmark = pytest.mark.django_db

#: Every route of ``sentry.urls`` -> kind.
#: "page": HTML, read-only; "json": JSON, read-only; "action": changes state
#: (POST only, never public); "auth": log in/out; "feed": RSS (sessions or
#: tokens, 403 otherwise); "api"/"api-write": the token-or-session JSON API;
#: "keys-page": the set-up pages (client keys: logged-in readers only, never
#: public); "keys-action": changes a key (POST only, needs a model permission);
#: "project-page": a project's settings or the new-project page (GET and POST
#: both need a model permission, never public); "alerts-action": sends an
#: alert channel a test message (POST only, needs sentry.change_project);
#: "alerts-page": a form that sets an alert channel or rule up (GET and POST
#: both need sentry.change_project, never public); "alerts-delete": deletes
#: one (POST only, needs sentry.change_project).
KINDS = {
    "": "page",
    "search/": "page",
    "projects/": "page",
    "group/<sentry_id:group_id>/": "page",
    "group/<sentry_id:group_id>/messages/": "page",
    "group/<sentry_id:group_id>/tags/": "page",
    "group/<sentry_id:group_id>/messages/<str:message_id>/": "page",
    "group/<sentry_id:group_id>/plugin/<slug:slug>/": "page",
    "plugins/<slug:slug>/": "page",
    "plugins/<slug:slug>/<path:rest>": "page",
    "poll/": "json",
    "group/<sentry_id:group_id>/messages/<str:message_id>/json/": "json",
    "group/<sentry_id:group_id>/resolve/": "action",
    "group/<sentry_id:group_id>/unresolve/": "action",
    "group/<sentry_id:group_id>/mute/": "action",
    "group/<sentry_id:group_id>/unmute/": "action",
    "group/<sentry_id:group_id>/comments/": "action",
    "group/<sentry_id:group_id>/history/": "page",
    "bulk/": "action",
    "login/": "auth",
    "logout/": "auth",
    "feeds/messages/": "feed",
    "feeds/groups/": "feed",
    "api/v1/": "page",
    "api/v1/groups/": "api",
    "api/v1/groups/<sentry_id:group_id>/": "api",
    "api/v1/groups/<sentry_id:group_id>/occurrences/": "api",
    "api/v1/occurrences/<str:message_id>/": "api",
    "api/v1/groups/<sentry_id:group_id>/resolve/": "api-write",
    "api/v1/groups/<sentry_id:group_id>/unresolve/": "api-write",
    "api/v1/groups/<sentry_id:group_id>/mute/": "api-write",
    "api/v1/groups/<sentry_id:group_id>/unmute/": "api-write",
    "api/v1/groups/<sentry_id:group_id>/comments/": "api-write",
    "api/v1/groups/<sentry_id:group_id>/comments/<sentry_id:comment_id>/": "api-write",
    "api/v1/groups/<sentry_id:group_id>/history/": "api",
    "setup/": "keys-page",
    "setup/<sentry_id:project_id>/": "keys-page",
    "setup/keys/": "keys-action",
    "setup/keys/<sentry_id:key_id>/rename/": "keys-action",
    "setup/keys/<sentry_id:key_id>/disable/": "keys-action",
    "setup/keys/<sentry_id:key_id>/enable/": "keys-action",
    "setup/keys/<sentry_id:key_id>/rotate/": "keys-action",
    "alerts/": "keys-page",
    "alerts/<str:name>/test/": "alerts-action",
    "alerts/channels/new/": "alerts-page",
    "alerts/channels/<sentry_id:channel_id>/": "alerts-page",
    "alerts/rules/new/": "alerts-page",
    "alerts/rules/<sentry_id:rule_id>/": "alerts-page",
    "alerts/rules/<sentry_id:rule_id>/delete/": "alerts-delete",
    "alerts/channels/<sentry_id:channel_id>/delete/": "alerts-delete",
    "projects/new/": "project-page",
    "projects/<slug:project_slug>/settings/": "project-page",
    "projects/<slug:project_slug>/releases/": "page",
    "projects/<slug:project_slug>/releases/<path:version>/": "page",
}
#: What the matrix posts to the key actions (enough for each of them).
KEY_FORM = {"label": "renamed", "project": "1"}
#: What the matrix posts to the alert set-up pages (a channel form).
ALERT_FORM = {"name": "matrix-new", "kind": "mail", "to": "x@example.com"}
#: What the matrix posts to the project pages (a valid form for each).
NEW_PROJECT_FORM = {"name": "Matrix", "slug": "matrix"}
PROJECT_FORM = {"name": "Renamed", "slug": "default"}
#: Installed while the matrix runs, so that plugin URLs have a plugin to serve.
PLUGINS = ("sentry.plugins.sentry_servers", "tests.plugins.broken")


def dashboard_routes():
    """Return ``[(route, pattern)]`` for every URL of ``sentry.urls``."""
    routes = []

    def walk(patterns, prefix):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                module = getattr(entry.callback, "__module__", "")
                # The ingest endpoints are their own trust boundary (keys,
                # not sessions) and are tested with the ingest code.
                if not module.startswith("sentry.ingest"):
                    routes.append((prefix + str(entry.pattern), entry))

    walk(get_resolver("sentry.urls").url_patterns, "")
    return routes


def url_for(route, pattern, message, key):
    """Fill a route in with arguments taken from real rows."""
    converters = getattr(pattern.pattern, "converters", {})
    values = {
        "project_id": key.project_id,
        "project_slug": key.project.slug,
        "key_id": key.pk,
        "group_id": message.group_id,
        "message_id": message.message_id,
        "slug": "broken" if route.startswith("plugins/") else "servers",
        "rest": "hello/5/",
        "name": "matrix",
        "channel_id": getattr(AlertChannel.objects.first(), "pk", 0),
        "rule_id": getattr(AlertRule.objects.first(), "pk", 0),
        "version": "matrix/1.0",
        # No such comment: api_write() writes one of its own first.
        "comment_id": 0,
    }
    path = route
    for key in converters:
        path = re.sub(rf"<(\w+:)?{key}>", str(values[key]), path)
    return reverse("sentry:index") + path


@pytest.fixture
def message():
    return record_event("dashboard <b>x</b>", data={"extra": {"k": "<i>v</i>"}})


@pytest.fixture
def key():
    return make_key(label="matrix", project_id=1)


@pytest.fixture
def urls(message, key):
    Release.objects.create(project_id=1, version="matrix/1.0")
    channels = {"matrix": {"plugin": "mail", "to": ["matrix@example.com"]}}
    AlertChannel.objects.create(name="saved", kind="mail", to="saved@example.com")
    AlertRule.objects.create(channels=["saved"])
    with plugin_installed(*PLUGINS), override_settings(SENTRY_ALERT_CHANNELS=channels):
        yield [
            (KINDS.get(route), url_for(route, p, message, key))
            for route, p in dashboard_routes()
        ]


def assert_key_unchanged(key):
    """No key action got through: the key is as made, and no other was added."""
    assert list(ProjectKey.objects.values_list("public_key", "label", "is_active")) == [
        (key.public_key, key.label, key.is_active)
    ]


def project_form(url):
    return NEW_PROJECT_FORM if url.endswith("/projects/new/") else PROJECT_FORM


def assert_alerts_unchanged():
    """No alert page got through: the saved channel and rule are as made."""
    assert list(AlertChannel.objects.values_list("name", "to", "enabled")) == [
        ("saved", "saved@example.com", True)
    ]
    assert list(AlertRule.objects.values_list("channels", "enabled")) == [
        (["saved"], True)
    ]


def assert_projects_unchanged():
    """No project page got through: project 1 is as made, and no other was added."""
    assert list(Project.objects.values_list("pk", "name", "slug")) == [
        (1, "default", "default")
    ]


def action_form(url):
    """Return what the matrix posts to an action: a comment, or "resolve all"."""
    if url.endswith("/comments/"):
        return {"text": "matrix note"}
    return {"op": "resolve-all"}


def api_write(client, url):
    """
    Post to a write of the API: a comment's body, or none.

    A comment's own URL is a comment of the client's user: it adds one
    through the error's comments URL (which must let it) and edits that one,
    since only its author may.
    """
    if url.endswith("/comments/"):
        return client.post(
            url, {"text": "matrix note"}, content_type="application/json"
        )
    if url.endswith("/comments/0/"):
        created = api_write(client, url.removesuffix("0/"))
        if created.status_code != 201:
            return created
        return client.patch(
            url.removesuffix("0/") + f"{created.json()['id']}/",
            {"text": "matrix edit"},
            content_type="application/json",
        )
    return client.post(url)


def assert_group_untouched():
    """No change got through: the group is unresolved, unmuted, uncommented."""
    group = GroupedMessage.objects.get()
    assert group.status == GroupedMessage.STATUS_UNRESOLVED
    assert not group.muted
    assert not GroupActivity.objects.exclude(kind="first_seen").exists()


def test_every_dashboard_url_is_classified():
    routes = [route for route, _ in dashboard_routes()]

    assert sorted(routes) == sorted(KINDS)


def is_served(response, url):
    """A 200, or the plugin's own 404 (the test plugin has no root URL)."""
    if url.endswith("/plugins/broken/"):
        return response.status_code == 404
    return response.status_code == 200


def is_login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(
        reverse("sentry:login") + "?next="
    )


def is_json_refusal(response, status=403):
    return response.status_code == status and response["Content-Type"] == (
        "application/json"
    )


def test_anonymous_visitors_are_refused_everywhere(urls, key):
    anonymous = Client()
    for kind, url in urls:
        if kind == "page":
            assert is_login_redirect(anonymous.get(url)), url
        elif kind == "json":
            assert is_json_refusal(anonymous.get(url)), url
            assert anonymous.get(url).json() == {"error": "forbidden"}
        elif kind == "action":
            assert is_login_redirect(anonymous.post(url, action_form(url))), url
            assert is_json_refusal(
                anonymous.post(url, headers={"Accept": "application/json"})
            ), url
        elif kind == "feed":
            assert anonymous.get(url).status_code == 403, url
        elif kind == "api":
            assert is_json_refusal(anonymous.get(url), 401), url
        elif kind == "api-write":
            assert is_json_refusal(anonymous.post(url), 401), url
        elif kind == "keys-page":
            assert is_login_redirect(anonymous.get(url)), url
        elif kind in ("keys-action", "alerts-action", "alerts-delete"):
            assert is_login_redirect(anonymous.post(url, KEY_FORM)), url
        elif kind == "project-page":
            assert is_login_redirect(anonymous.get(url)), url
            assert is_login_redirect(anonymous.post(url, project_form(url))), url
        elif kind == "alerts-page":
            assert is_login_redirect(anonymous.get(url)), url
            assert is_login_redirect(anonymous.post(url, ALERT_FORM)), url
    assert_group_untouched()
    assert_key_unchanged(key)
    assert_projects_unchanged()
    assert_alerts_unchanged()


def test_users_who_are_not_staff_are_refused_everywhere(urls, key):
    member = member_client()
    for kind, url in urls:
        if kind == "page":
            response = member.get(url)
            assert response.status_code == 403, url
            assert b"Access denied" in response.content
        elif kind in ("json", "api"):
            assert is_json_refusal(member.get(url)), url
        elif kind == "action":
            assert member.post(url, action_form(url)).status_code == 403, url
        elif kind == "feed":
            assert member.get(url).status_code == 403, url
        elif kind == "api-write":
            assert is_json_refusal(member.post(url)), url
        elif kind == "keys-page":
            assert member.get(url).status_code == 403, url
        elif kind in ("keys-action", "alerts-action", "alerts-delete"):
            assert member.post(url, KEY_FORM).status_code == 403, url
        elif kind == "project-page":
            assert member.get(url).status_code == 403, url
            assert member.post(url, project_form(url)).status_code == 403, url
        elif kind == "alerts-page":
            assert member.get(url).status_code == 403, url
            assert member.post(url, ALERT_FORM).status_code == 403, url
    assert_group_untouched()
    assert_key_unchanged(key)
    assert_projects_unchanged()
    assert_alerts_unchanged()


def test_inactive_staff_are_refused(urls, django_user_model):
    user = django_user_model.objects.create_user("gone", is_staff=True)
    browser = Client()
    browser.force_login(user)
    user.is_active = False
    user.save()
    for kind, url in urls:
        if kind in (
            "page",
            "json",
            "feed",
            "api",
            "keys-page",
            "project-page",
            "alerts-page",
        ):
            assert browser.get(url).status_code in (302, 401, 403), url


def test_staff_see_everything_and_may_act(urls):
    staff = staff_client()
    for kind, url in urls:
        if kind in ("page", "feed", "api"):
            assert is_served(staff.get(url, follow=True), url), url
        elif kind == "json":
            response = staff.get(url)
            assert response.status_code == 200, url
            assert response["Content-Type"].startswith("application/json")
        elif kind == "action":
            assert staff.get(url).status_code == 405, url
            assert staff.post(url, action_form(url)).status_code == 302, url
        elif kind == "api-write":
            assert api_write(staff, url).status_code in (200, 201), url
        elif kind == "keys-page":
            assert staff.get(url).status_code == 200, url


def test_staff_without_the_key_permissions_see_keys_but_cannot_change_them(urls, key):
    staff = staff_client()
    for kind, url in urls:
        if kind == "keys-page":
            assert staff.get(url).status_code == 200, url
        elif kind in ("keys-action", "alerts-action", "alerts-page", "alerts-delete"):
            assert staff.get(url).status_code == 403, url
            response = staff.post(url, ALERT_FORM)
            assert response.status_code == 403, url
            assert b"sentry." in response.content
        elif kind == "project-page":
            assert staff.get(url).status_code == 403, url
            response = staff.post(url, project_form(url))
            assert response.status_code == 403, url
            assert b"_project permission" in response.content
    assert_key_unchanged(key)
    assert_projects_unchanged()
    assert_alerts_unchanged()


def test_superusers_see_everything_and_may_act(urls, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    browser = Client()
    browser.force_login(user)
    for kind, url in urls:
        if kind in ("page", "feed", "api"):
            assert is_served(browser.get(url, follow=True), url), url
        elif kind == "json":
            assert browser.get(url).status_code == 200, url
        elif kind == "action":
            assert browser.post(url, action_form(url)).status_code == 302, url
        elif kind == "api-write":
            assert api_write(browser, url).status_code in (200, 201), url
        elif kind == "keys-page":
            assert browser.get(url).status_code == 200, url
        elif kind == "keys-action":
            assert browser.get(url).status_code == 405, url
            assert browser.post(url, KEY_FORM).status_code == 302, url
        elif kind == "alerts-action":
            assert browser.get(url).status_code == 405, url
            assert api_write(browser, url).status_code in (200, 201), url
        elif kind == "project-page":
            assert browser.get(url).status_code == 200, url
            assert browser.post(url, project_form(url)).status_code == 302, url
        elif kind == "alerts-page":
            assert browser.get(url).status_code == 200, url
            # An empty form: refused with its errors, nothing saved.
            assert browser.post(url, {}).status_code == 400, url
        elif kind == "alerts-delete":
            assert browser.get(url).status_code == 405, url
            assert browser.post(url).status_code == 302, url
    assert not AlertChannel.objects.exists() and not AlertRule.objects.exists()
    assert list(Project.objects.values_list("name", "slug")) == [
        ("Matrix", "matrix"),
        ("Renamed", "default"),
    ]


def test_the_view_permission_is_enough_to_read(urls, key, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("reader")
    user.user_permissions.add(Permission.objects.get(codename="view_groupedmessage"))
    browser = Client()
    browser.force_login(user)
    for kind, url in urls:
        if kind in ("page", "json", "feed", "api", "keys-page"):
            assert is_served(browser.get(url, follow=True), url), url
        elif kind == "action":
            assert browser.post(url, action_form(url)).status_code == 403, url
        elif kind in ("keys-action", "alerts-action", "alerts-delete"):
            assert browser.post(url, KEY_FORM).status_code == 403, url
        elif kind in ("project-page", "alerts-page"):
            assert browser.get(url).status_code == 403, url
            assert browser.post(url, project_form(url)).status_code == 403, url
    assert_group_untouched()
    assert_key_unchanged(key)
    assert_projects_unchanged()
    assert_alerts_unchanged()


def test_the_change_permission_is_needed_to_act(urls, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("changer")
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_groupedmessage", "change_groupedmessage"]
        )
    )
    browser = Client()
    browser.force_login(user)
    for kind, url in urls:
        if kind == "action":
            assert browser.post(url, action_form(url)).status_code == 302, url


def key_keeper(django_user_model, *codenames):
    """Return a client logged in as staff with these ``sentry`` permissions."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("keeper", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.mark.parametrize(
    ("codenames", "may_create", "may_change"),
    [
        (["add_projectkey", "change_projectkey"], True, True),
        (["add_projectkey"], True, False),
        (["change_projectkey"], False, True),
        (["view_projectkey", "delete_projectkey"], False, False),
    ],
)
def test_the_key_permissions_are_needed_to_change_keys(
    urls, django_user_model, codenames, may_create, may_change
):
    browser = key_keeper(django_user_model, *codenames)
    for kind, url in urls:
        if kind == "keys-page":
            assert browser.get(url).status_code == 200, url
        elif kind == "keys-action":
            allowed = may_create if url.endswith("/setup/keys/") else may_change
            assert browser.get(url).status_code == (405 if allowed else 403), url
            expected = 302 if allowed else 403
            assert browser.post(url, KEY_FORM).status_code == expected, url
        elif kind == "project-page":
            assert browser.get(url).status_code == 403, url
        elif kind in ("alerts-action", "alerts-delete"):
            assert browser.post(url).status_code == 403, url
        elif kind == "alerts-page":
            assert browser.get(url).status_code == 403, url
            assert browser.post(url, ALERT_FORM).status_code == 403, url
    assert ProjectKey.objects.count() == (2 if may_create else 1)
    assert_alerts_unchanged()


@pytest.mark.parametrize(
    ("codenames", "may_create", "may_change"),
    [
        (["add_project", "change_project"], True, True),
        (["add_project"], True, False),
        (["change_project"], False, True),
        (["view_project", "delete_project"], False, False),
    ],
)
def test_the_project_permissions_are_needed_for_the_project_pages(
    urls, django_user_model, codenames, may_create, may_change
):
    browser = key_keeper(django_user_model, *codenames)
    for kind, url in urls:
        if kind == "project-page":
            allowed = may_create if url.endswith("/projects/new/") else may_change
            assert browser.get(url).status_code == (200 if allowed else 403), url
            expected = 302 if allowed else 403
            assert browser.post(url, project_form(url)).status_code == expected, url
        elif kind == "keys-action":
            assert browser.post(url, KEY_FORM).status_code == 403, url
        elif kind == "alerts-action":
            expected = 200 if may_change else 403
            assert browser.post(url).status_code == expected, url
        elif kind == "alerts-page":
            assert browser.get(url).status_code == (200 if may_change else 403), url
            expected = 400 if may_change else 403
            assert browser.post(url, {}).status_code == expected, url
        elif kind == "alerts-delete":
            expected = 302 if may_change else 403
            assert browser.post(url).status_code == expected, url
    assert AlertRule.objects.exists() is not may_change
    assert sorted(Project.objects.values_list("name", flat=True)) == sorted(
        (["Matrix"] if may_create else []) + ["Renamed" if may_change else "default"]
    )


@override_settings(SENTRY_PUBLIC=True)
def test_public_mode_opens_the_read_only_urls_only(urls, key):
    anonymous = Client()
    for kind, url in urls:
        if kind in ("page", "json", "feed", "api"):
            assert is_served(anonymous.get(url, follow=True), url), url
        elif kind == "action":
            assert is_login_redirect(anonymous.post(url, action_form(url))), url
        elif kind == "api-write":
            assert anonymous.post(url).status_code == 401, url
        elif kind == "keys-page":
            # A DSN lets whoever holds it send events: never public.
            assert is_login_redirect(anonymous.get(url)), url
        elif kind in ("keys-action", "alerts-action", "alerts-delete"):
            assert is_login_redirect(anonymous.post(url, KEY_FORM)), url
        elif kind in ("project-page", "alerts-page"):
            assert is_login_redirect(anonymous.get(url)), url
            assert is_login_redirect(anonymous.post(url, project_form(url))), url
    # A plugin URL may change state: public mode opens it for reads only.
    plugin_url = next(url for _, url in urls if "/plugins/broken/" in url)
    assert is_login_redirect(anonymous.post(plugin_url))
    member = member_client()
    for kind, url in urls:
        if kind == "action":
            assert member.post(url, action_form(url)).status_code == 403, url
        elif kind in (
            "keys-page",
            "keys-action",
            "alerts-action",
            "alerts-page",
            "alerts-delete",
        ):
            assert member.post(url, KEY_FORM).status_code == 403, url
        elif kind == "project-page":
            assert member.post(url, project_form(url)).status_code == 403, url
    assert_group_untouched()
    assert_key_unchanged(key)
    assert_projects_unchanged()
    assert_alerts_unchanged()


def test_dashboard_responses_carry_security_headers(urls):
    staff = staff_client()
    root = superuser_client()
    anonymous = Client()
    responses = (
        [
            staff.get(url)
            for kind, url in urls
            # (Not the test plugin's missing root URL: Django's own 404 page.)
            if kind
            in (
                "page",
                "json",
                "action",
                "keys-page",
                "keys-action",
                "project-page",
                "alerts-page",
                "alerts-delete",
            )
            and not url.endswith("/broken/")
        ]
        + [
            root.get(url)
            for kind, url in urls
            if kind in ("project-page", "alerts-page")
        ]
        + [
            anonymous.get(reverse("sentry:index")),
            anonymous.get(reverse("sentry:login")),
            member_client().get(reverse("sentry:index")),
        ]
    )
    for response in responses:
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        policy = response["Content-Security-Policy"]
        assert "default-src 'none'" in policy
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def superuser_client():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    browser = Client()
    browser.force_login(user)
    return browser


@override_settings(STATIC_URL="https://cdn.example.com/static/")
def test_static_files_on_another_origin_stay_allowed():
    response = staff_client().get(reverse("sentry:index"))

    assert (
        "script-src 'self' https://cdn.example.com;"
        in (response["Content-Security-Policy"])
    )


def test_pages_have_no_inline_script_style_or_event_handler(message):
    staff = superuser_client()
    message = record_event("x", data=hostile_event_data())
    pages = [
        reverse("sentry:project-new"),
        reverse("sentry:project-settings", args=["default"]),
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


@override_settings(SENTRY_PUBLIC=True)
def test_public_visitors_are_not_offered_buttons_they_cannot_use(message):
    anonymous = Client()
    for url in (
        reverse("sentry:index"),
        reverse("sentry:group", args=[message.group_id]),
    ):
        html = anonymous.get(url).content.decode()
        assert "data-resolve" not in html, url
        assert "bulk-form" not in html, url
    assert (
        "data-resolve" in staff_client().get(reverse("sentry:index")).content.decode()
    )


def test_the_script_never_writes_markup():
    from pathlib import Path

    import sentry

    script = (Path(sentry.__file__).parent / "static/sentry/sentry.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert sink not in script.replace("never uses innerHTML", ""), sink
    assert "eval(" not in script and "new Function" not in script


# --- projects restricted to auth groups ---------------------------------------

#: Text of the restricted project's group (and in its name): must never show
#: to a user outside the project's member groups.
SECRET = "ledger-secret-failure"
#: Text of the unrestricted project's group (and in its name): shown to all.
OPEN = "open-shop-failure"
#: Routes that name no group, occurrence, key or project but list them, and
#: how the matrix asks them: "get" (follow redirects, read the body),
#: "bulk" (resolve everything) or "create-key" (a key for a project).
LISTS = {
    "": "get",
    "search/": "get",
    "poll/": "get",
    "feeds/messages/": "get",
    "feeds/groups/": "get",
    "api/v1/groups/": "get",
    "setup/": "get",
    "projects/": "get",
    "bulk/": "bulk",
    "setup/keys/": "create-key",
}
#: Routes that show nothing of any project (a plugin's own URLs narrow
#: what they show themselves, as docs/plugins.rst asks).
NO_PROJECT_DATA = {
    "login/",
    "api/v1/",
    "projects/new/",
    "logout/",
    "plugins/<slug:slug>/",
    "plugins/<slug:slug>/<path:rest>",
    # Settings, not rows; a rule's project is named to those who see it only
    # (tests/test_views_alerts.py).
    "alerts/",
    "alerts/<str:name>/test/",
    # A channel or rule of a project is a 404 to staff who do not see it
    # (tests/test_views_alert_setup.py).
    "alerts/channels/new/",
    "alerts/channels/<sentry_id:channel_id>/",
    "alerts/rules/new/",
    "alerts/rules/<sentry_id:rule_id>/",
    "alerts/rules/<sentry_id:rule_id>/delete/",
    "alerts/channels/<sentry_id:channel_id>/delete/",
}
#: Path parameters that name one project's object.
OBJECT_PARAMETERS = ("group_id", "message_id", "key_id", "project_id", "project_slug")


def names_an_object(route):
    return any(f"{name}>" in route for name in OBJECT_PARAMETERS)


class Side:
    """One project's group, occurrence and key, and its URLs."""

    def __init__(self, project, marker):
        project.name = f"{marker} project"
        project.save()
        self.project = project
        self.group = make_group(marker, project=project)
        self.message = make_message(self.group)
        count_minute(self.group, self.message.datetime)
        self.key = make_key(label=f"{marker} key", project_id=project.pk)
        Release.objects.create(project=project, version="matrix/1.0")
        self.urls = [
            (route, KINDS[route], url_for(route, p, self.message, self.key))
            for route, p in dashboard_routes()
            if names_an_object(route)
        ]

    def status(self):
        self.group.refresh_from_db()
        return self.group.status

    def reopen(self):
        GroupedMessage.objects.filter(pk=self.group.pk).update(
            status=GroupedMessage.STATUS_UNRESOLVED
        )


@pytest.fixture
def sides(django_user_model):
    """An unrestricted project 1 and a project 2 restricted to "ledger"."""
    team = Group.objects.create(name="ledger")
    secret = make_project(2, slug="ledger")
    secret.member_groups.add(team)
    with plugin_installed(*PLUGINS):
        yield Side(Project.objects.get(pk=1), OPEN), Side(secret, SECRET), team


def project_staff(django_user_model, username, *groups):
    """Return a client logged in as staff who may also change keys and projects."""
    user = django_user_model.objects.create_user(username, is_staff=True)
    user.groups.add(*groups)
    codenames = ["add_projectkey", "change_projectkey", "change_project"]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    browser = Client()
    browser.force_login(user)
    return browser


def assert_served(browser, kind, url):
    """What staff get from a URL of a project they may see."""
    if kind in ("page", "feed", "api"):
        assert is_served(browser.get(url, follow=True), url), url
    elif kind == "json":
        assert browser.get(url).status_code == 200, url
    elif kind == "action":
        assert browser.post(url, action_form(url)).status_code == 302, url
    elif kind == "api-write":
        assert api_write(browser, url).status_code in (200, 201), url
    elif kind in ("keys-page", "project-page"):
        assert browser.get(url).status_code == 200, url
    elif kind == "keys-action":
        assert browser.post(url, {"label": "renamed"}).status_code == 302, url
    else:
        raise AssertionError(f"unknown kind {kind!r} of {url}")


def assert_missing(browser, kind, url):
    """Another project's object is a 404 (a 403 would confirm it exists)."""
    if kind in ("page", "json", "feed", "keys-page", "project-page"):
        assert browser.get(url).status_code == 404, url
    elif kind == "api":
        assert is_json_refusal(browser.get(url), 404), url
    elif kind == "action":
        assert browser.post(url, action_form(url)).status_code == 404, url
        response = browser.post(url, headers={"Accept": "application/json"})
        assert response.status_code == 404, url
    elif kind == "api-write":
        assert is_json_refusal(browser.post(url), 404), url
    elif kind == "keys-action":
        assert browser.post(url, {"label": "renamed"}).status_code == 404, url
    else:
        raise AssertionError(f"unknown kind {kind!r} of {url}")


def list_url(route):
    return reverse("sentry:index") + route


def assert_lists(browser, route, how, open_side, secret_side, sees_secret):
    """The list URL shows the secret project's rows to members only."""
    url = list_url(route)
    if how == "get":
        body = browser.get(url, follow=True).content.decode()
        assert OPEN in body, url
        assert (SECRET in body) == sees_secret, url
    elif how == "bulk":
        assert browser.post(url, action_form(url)).status_code == 302
        assert open_side.status() == GroupedMessage.STATUS_RESOLVED
        secret_status = secret_side.status()
        assert (secret_status == GroupedMessage.STATUS_RESOLVED) == sees_secret
        open_side.reopen()
        secret_side.reopen()
        response = browser.post(
            url,
            {"op": "resolve-selected", "ids": [secret_side.group.pk]},
            headers={"Accept": "application/json"},
        )
        assert response.json()["updated"] == (1 if sees_secret else 0)
        secret_side.reopen()
    elif how == "create-key":
        project = secret_side.project.pk
        response = browser.post(url, {"label": "new", "project": str(project)})
        made = ProjectKey.objects.filter(project_id=project, label="new")
        if sees_secret:
            assert response.status_code == 302
            assert made.count() == 1
            made.delete()
        else:
            # The same answer as for a project that does not exist.
            assert response.status_code == 400
            assert f"There is no project {project}" in response.content.decode()
            assert not made.exists()
    else:
        raise AssertionError(f"unknown way {how!r} of asking {url}")


def test_every_dashboard_url_is_classified_for_projects():
    routes = {route for route, _ in dashboard_routes()}
    objects = {route for route in routes if names_an_object(route)}

    assert routes == objects | set(LISTS) | NO_PROJECT_DATA
    assert not objects & set(LISTS) and not set(LISTS) & NO_PROJECT_DATA
    assert not objects & NO_PROJECT_DATA


def test_members_of_a_restricted_project_see_and_act_on_it_everywhere(
    sides, django_user_model
):
    open_side, secret_side, team = sides
    member = project_staff(django_user_model, "ledger-member", team)

    for route, how in LISTS.items():
        assert_lists(member, route, how, open_side, secret_side, sees_secret=True)
    for side in sides[:2]:
        for _, kind, url in side.urls:
            assert_served(member, kind, url)
            side.reopen()


def test_other_staff_find_a_restricted_project_nowhere(sides, django_user_model):
    open_side, secret_side, team = sides
    other = Group.objects.create(name="shop")
    outsider = project_staff(django_user_model, "shop-staff", other)

    for route, how in LISTS.items():
        assert_lists(outsider, route, how, open_side, secret_side, sees_secret=False)
    for _, kind, url in secret_side.urls:
        assert_missing(outsider, kind, url)
    assert secret_side.status() == GroupedMessage.STATUS_UNRESOLVED
    assert not secret_side.group.muted
    assert not GroupActivity.objects.filter(
        group=secret_side.group, kind__in=("muted", "comment")
    ).exists()
    secret_key = ProjectKey.objects.get(pk=secret_side.key.pk)
    assert (secret_key.label, secret_key.public_key, secret_key.is_active) == (
        secret_side.key.label,
        secret_side.key.public_key,
        True,
    )
    # The unrestricted project stays open to them.
    for _, kind, url in open_side.urls:
        assert_served(outsider, kind, url)
        open_side.reopen()


def test_superusers_see_restricted_projects_without_being_members(
    sides, django_user_model
):
    open_side, secret_side, _ = sides
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    root = Client()
    root.force_login(user)

    for route, how in LISTS.items():
        assert_lists(root, route, how, open_side, secret_side, sees_secret=True)
    for _, kind, url in secret_side.urls:
        assert_served(root, kind, url)


@override_settings(SENTRY_PUBLIC=True)
def test_public_mode_shows_unrestricted_projects_only(sides):
    open_side, secret_side, _ = sides
    anonymous = Client()

    for route, how in LISTS.items():
        if how == "get" and not route.startswith("setup/"):
            body = anonymous.get(list_url(route), follow=True).content.decode()
            assert OPEN in body, route
            assert SECRET not in body, route
    for _, kind, url in secret_side.urls:
        if kind in ("page", "json", "feed"):
            assert anonymous.get(url).status_code == 404, url
        elif kind == "api":
            assert is_json_refusal(anonymous.get(url), 404), url
    for _, kind, url in open_side.urls:
        if kind in ("page", "json", "feed", "api"):
            assert is_served(anonymous.get(url, follow=True), url), url


def test_tokens_see_the_projects_of_their_user(sides, django_user_model):
    open_side, secret_side, team = sides
    member = django_user_model.objects.create_user("m", is_staff=True)
    member.groups.add(team)
    outsider = django_user_model.objects.create_user("o", is_staff=True)
    scopes = ("event:read", "feed:read")
    for user, sees_secret in ((member, True), (outsider, False)):
        token = ApiToken.objects.create_token(user, scopes=scopes)[1]
        api = Client(headers={"Authorization": f"Bearer {token}"})

        listed = api.get(reverse("sentry:api-groups")).json()["results"]
        feed = Client().get(reverse("sentry:feed-groups"), {"token": token})
        group = api.get(reverse("sentry:api-group", args=[secret_side.group.pk]))

        assert {row["id"] for row in listed} == (
            {open_side.group.pk, secret_side.group.pk}
            if sees_secret
            else {open_side.group.pk}
        )
        assert (SECRET in feed.content.decode()) == sees_secret
        assert OPEN in feed.content.decode()
        assert group.status_code == (200 if sees_secret else 404)


def test_a_pasted_event_id_of_another_project_opens_nothing(sides, django_user_model):
    _, secret_side, team = sides
    outsider = project_staff(django_user_model, "outsider")
    member = project_staff(django_user_model, "insider", team)
    query = {"q": secret_side.message.message_id}

    response = outsider.get(reverse("sentry:index"), query)
    assert response.status_code == 200
    assert SECRET not in response.content.decode()
    assert member.get(reverse("sentry:index"), query)["Location"] == (
        secret_side.message.get_absolute_url()
    )


def test_restricted_projects_cost_no_extra_query(sides, django_user_model):
    open_side, secret_side, team = sides
    member = project_staff(django_user_model, "counted", team)
    urls = [list_url(route) for route, how in LISTS.items() if how == "get"] + [
        url for _, kind, url in secret_side.urls if kind in ("page", "json", "api")
    ]

    def queries():
        counts = []
        for url in urls:
            with CaptureQueriesContext(connection) as captured:
                assert member.get(url).status_code in (200, 302), url
            counts.append(len(captured))
        return counts

    restricted = queries()
    secret_side.project.member_groups.clear()

    # The narrowing is a subquery: as many queries as with no restriction
    # (whose counts the other test modules pin).
    assert restricted == queries()
