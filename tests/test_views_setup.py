"""
The set-up pages: client keys, their DSNs, the SDK snippets and the key actions.

Who may open and post to each URL is in the access matrix of
tests/test_views.py; here, what the pages show and what the actions do.
"""

import io
import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from sentry.models import Message, ProjectKey
from sentry.snippets import PLATFORMS
from tests.dashboard_factories import XSS, member_client, staff_client
from tests.ingest_factories import (
    SDK_AUTH,
    event_envelope,
    make_key,
    make_project,
    message_event,
)

pytestmark = pytest.mark.django_db

#: The hosts the DSN tests reach the dashboard at.
HOSTS = override_settings(
    ALLOWED_HOSTS=["testserver", "localhost", "errors.example.com"]
)

SETUP = reverse("sentry:setup")
CREATE = reverse("sentry:setup-create")


def project_url(project_id):
    return reverse("sentry:setup-project", args=[project_id])


def action_url(action, key):
    return reverse(f"sentry:setup-{action}", args=[key.pk])


@pytest.fixture
def keeper(django_user_model):
    """Staff allowed to create and change keys (not a superuser)."""
    user = django_user_model.objects.create_user("keeper", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_projectkey", "change_projectkey"])
    )
    browser = Client()
    browser.force_login(user)
    return browser


def send_event(public_key, project_id, message="hello"):
    """POST an envelope as sentry-sdk does; return the response."""
    return Client().post(
        f"/sentry/api/{project_id}/envelope/",
        event_envelope(message_event(message)),
        content_type="application/x-sentry-envelope",
        HTTP_X_SENTRY_AUTH=SDK_AUTH.format(key=public_key),
    )


def dsn_field(html, key):
    """Return the DSN the page shows for ``key`` (the copyable field's value)."""
    match = re.search(rf'id="dsn-{key.pk}" class="dsn-text" value="([^"]*)"', html)
    assert match, html
    return match.group(1)


# --- the pages ----------------------------------------------------------------


def test_the_header_links_to_the_set_up_page(django_user_model):
    reader = django_user_model.objects.create_user("reader")
    reader.user_permissions.add(Permission.objects.get(codename="view_groupedmessage"))
    browser = Client()
    browser.force_login(reader)
    link = (
        f'<a href="{SETUP}" data-nav="setup" '
        'title="Client keys (DSNs) and SDK set-up">Keys &amp; DSNs</a>'
    )

    assert link in staff_client().get(reverse("sentry:index")).content.decode()
    assert link in browser.get(reverse("sentry:index")).content.decode()


@override_settings(SENTRY_PUBLIC=True)
def test_only_readers_of_the_dashboard_get_the_set_up_link():
    assert SETUP not in Client().get(reverse("sentry:index")).content.decode()
    # (A user who is not staff: the public pages, no set-up.)
    assert SETUP not in member_client().get(reverse("sentry:index")).content.decode()


@HOSTS
def test_the_list_shows_every_project_with_its_keys():
    make_key(label="a", project_id=7)
    make_key(label="b", project_id=7, is_active=False)
    make_key(label="c", project_id=3)
    make_project(5, name="Billing", slug="billing")

    response = staff_client().get(SETUP, HTTP_HOST="errors.example.com")

    html = response.content.decode()
    rows = re.findall(
        r'<a href="/sentry/setup/(\d+)/">([^<]+)</a> <small>([^<]+)</small></td>'
        r"<td>\d+</td><td>(\d+)</td><td>(\d+)</td>",
        html,
    )
    assert rows == [
        ("1", "default", "default", "0", "0"),
        ("3", "Project 3", "project-3", "1", "1"),
        ("5", "Billing", "billing", "0", "0"),
        ("7", "Project 7", "project-7", "2", "1"),
    ]
    assert "<code>http://errors.example.com/sentry/</code>" in html


@HOSTS
def test_the_project_page_shows_each_key_with_its_dsn_from_the_request():
    key = make_key(label="shop", project_id=1, rate_limit=60)
    other = make_key(label="billing", project_id=1, is_active=False)
    make_key(label="elsewhere", project_id=2)

    response = staff_client().get(project_url(1), HTTP_HOST="errors.example.com:8443")

    html = response.content.decode()
    assert response.status_code == 200
    assert dsn_field(html, key) == (
        f"http://{key.public_key}@errors.example.com:8443/sentry/1"
    )
    assert dsn_field(html, other) == (
        f"http://{other.public_key}@errors.example.com:8443/sentry/1"
    )
    assert "elsewhere" not in html
    assert "60 / min" in html
    assert 'class="tag off">disabled<' in html


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
@HOSTS
def test_the_dsn_follows_the_scheme_the_page_was_reached_with():
    key = make_key(label="shop", project_id=1)

    html = (
        staff_client()
        .get(
            project_url(1),
            HTTP_HOST="errors.example.com",
            HTTP_X_FORWARDED_PROTO="https",
        )
        .content.decode()
    )

    assert (
        dsn_field(html, key) == f"https://{key.public_key}@errors.example.com/sentry/1"
    )


@override_settings(SENTRY_URL_PREFIX="https://errors.example.com")
@HOSTS
def test_with_a_url_prefix_for_this_address_the_dsn_is_the_same_and_no_notice():
    key = make_key(label="shop", project_id=1)

    html = (
        staff_client()
        .get(project_url(1), HTTP_HOST="errors.example.com", secure=True)
        .content.decode()
    )

    assert (
        dsn_field(html, key) == f"https://{key.public_key}@errors.example.com/sentry/1"
    )
    assert "SENTRY_URL_PREFIX" not in html


@override_settings(SENTRY_URL_PREFIX="https://errors.example.com")
def test_a_url_prefix_naming_another_address_is_pointed_out():
    key = make_key(label="shop", project_id=1)

    html = staff_client().get(project_url(1), HTTP_HOST="localhost").content.decode()

    assert dsn_field(html, key) == f"http://{key.public_key}@localhost/sentry/1"
    assert "<code>SENTRY_URL_PREFIX</code> names another one" in html
    assert "<code>https://errors.example.com</code>" in html


def test_a_secret_is_never_shown():
    key = make_key(label="shop", project_id=1, secret_key="s" * 32)

    html = staff_client().get(project_url(1)).content.decode()

    assert key.secret_key not in html
    assert dsn_field(html, key) == f"http://{key.public_key}@testserver/sentry/1"


def test_the_snippets_of_every_platform_carry_the_chosen_keys_dsn():
    first = make_key(label="api", project_id=1, is_active=False)
    second = make_key(label="web", project_id=1)
    dsn = f"http://{second.public_key}@testserver/sentry/1"

    html = staff_client().get(project_url(1)).content.decode()

    # The first active key by default; every platform, in order.
    names = re.findall(r'<details class="snippet" id="snippet-([a-z]+)"', html)
    assert names == ["python", "browser", "node", "go", "ruby", "php", "java"]
    for platform in PLATFORMS:
        block = re.search(
            rf'<pre id="code-{platform.slug}"[^>]*>(.*?)</pre>', html, re.S
        ).group(1)
        assert dsn in block, platform.slug
    assert "sentry_sdk.init(dsn=&quot;" + dsn + "&quot;)" in html
    assert "config.dsn = &#x27;" + dsn + "&#x27;" in html

    chosen = staff_client("other").get(project_url(1), {"key": first.pk})
    assert "@testserver/sentry/1" in chosen.content.decode()
    assert f"{first.public_key}@testserver/sentry/1&quot;" in chosen.content.decode()
    assert "This key is disabled" in chosen.content.decode()


def test_a_project_with_no_key_offers_to_create_one(keeper):
    html = keeper.get(project_url(1)).content.decode()

    assert "This project has no client key yet. Create one below." in html
    assert 'id="snippets"' not in html
    assert f'action="{CREATE}"' in html


def test_staff_without_permission_see_no_forms():
    make_key(label="shop", project_id=1)

    html = staff_client().get(project_url(1)).content.decode()

    assert '<form method="post" action="/sentry/setup/keys' not in html
    assert "Rotate" not in html


def test_a_project_without_keys_is_a_404_unless_it_is_the_sites_own():
    staff = staff_client()

    assert staff.get(project_url(5)).status_code == 404
    assert staff.get(project_url(1)).status_code == 200
    # Past what the column holds, or past the converter: still a 404.
    assert staff.get(project_url(2**31)).status_code == 404
    assert staff.get("/sentry/setup/1234567890123456789/").status_code == 404


def test_a_hostile_label_is_shown_as_text(keeper):
    key = make_key(label=XSS, project_id=1)

    html = keeper.get(
        project_url(1), {"done": "renamed", "key": key.pk}
    ).content.decode()

    assert "<script>window.__xss" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in html
    assert "Key renamed to “&lt;script&gt;" in html


def test_the_pages_have_no_inline_script_style_or_handler(keeper):
    key = make_key(label=XSS, project_id=1)

    for url in (SETUP, project_url(1), f"{project_url(1)}?key={key.pk}&done=rotated"):
        html = keeper.get(url).content.decode()
        for script in re.findall(r"<script[^>]*>", html):
            assert re.fullmatch(r'<script src="[^"]+" defer>', script), script
        assert " style=" not in html
        # (The label's escaped text, quoted in attribute values, may read
        # "onerror=": only attributes themselves count.)
        tags = re.sub(r'"[^"]*"', '""', html)
        assert not re.search(r"<[^>]+\son\w+\s*=", tags), url


def test_the_pages_take_a_fixed_number_of_queries(keeper, django_assert_num_queries):
    for n in range(5):
        make_key(label=f"key {n}", project_id=1)
        make_key(label=f"key {n}", project_id=n + 2)

    # The session, the user, the project, its keys (and the permissions, once).
    with django_assert_num_queries(6):
        assert keeper.get(project_url(1)).status_code == 200
    with django_assert_num_queries(5):
        assert keeper.get(SETUP).status_code == 200


# --- the actions --------------------------------------------------------------


def test_creating_a_key_shows_it_on_its_projects_page(keeper):
    make_project(3)
    response = keeper.post(
        CREATE, {"label": "  mobile app ", "project": "3", "rate_limit": "120"}
    )

    key = ProjectKey.objects.get()
    assert (key.label, key.project_id, key.rate_limit, key.is_active) == (
        "mobile app",
        3,
        120,
        True,
    )
    assert key.secret_key == ""
    assert response.status_code == 302
    assert response["Location"] == (
        f"/sentry/setup/3/?done=created&key={key.pk}#key-{key.pk}"
    )
    html = keeper.get(response["Location"]).content.decode()
    assert "Key “mobile app” created. Its DSN is below." in html
    assert dsn_field(html, key) == f"http://{key.public_key}@testserver/sentry/3"


def test_a_key_is_created_without_a_rate_limit_in_project_1_by_default(keeper):
    keeper.post(CREATE, {"label": "shop"})

    key = ProjectKey.objects.get()
    assert (key.project_id, key.rate_limit) == (1, None)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"label": ""}, "label", "Give the key a label"),
        ({"label": "   "}, "label", "Give the key a label"),
        ({"label": "x" * 129}, "label", "at most 128 characters"),
        ({"label": "a\x00b"}, "label", "control characters"),
        ({"label": "a\nb"}, "label", "control characters"),
        ({"label": "ok", "rate_limit": "0"}, "rate_limit", "from 1 to"),
        ({"label": "ok", "rate_limit": "-5"}, "rate_limit", "from 1 to"),
        ({"label": "ok", "rate_limit": "1.5"}, "rate_limit", "from 1 to"),
        ({"label": "ok", "rate_limit": "1e3"}, "rate_limit", "from 1 to"),
        ({"label": "ok", "rate_limit": "²"}, "rate_limit", "from 1 to"),
        ({"label": "ok", "rate_limit": "٣"}, "rate_limit", "from 1 to"),
        ({"label": "ok", "rate_limit": "9" * 400}, "rate_limit", "from 1 to"),
        ({"label": "ok", "rate_limit": "2147483648"}, "rate_limit", "from 1 to"),
        ({"label": "ok", "project": "abc"}, "project", "A project is a whole"),
        ({"label": "ok", "project": "-1"}, "project", "A project is a whole"),
        ({"label": "ok", "project": "2147483648"}, "project", "A project is a whole"),
        ({"label": "ok", "project": "99"}, "project", "There is no project 99"),
    ],
)
def test_a_bad_form_creates_nothing_and_says_why(keeper, form, field, message):
    response = keeper.post(CREATE, form)

    assert response.status_code == 400
    assert ProjectKey.objects.count() == 0
    html = response.content.decode()
    assert "Nothing was changed" in html
    assert message in html


def test_a_bad_form_keeps_what_was_typed(keeper):
    make_project(4)
    response = keeper.post(
        CREATE, {"label": '"><b>shop', "project": "4", "rate_limit": "ten"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert 'value="&quot;&gt;&lt;b&gt;shop"' in html
    assert 'value="ten"' in html
    assert '<input type="hidden" name="project" value="4">' in html


def test_renaming_a_key(keeper):
    key = make_key(label="old", project_id=1)

    response = keeper.post(action_url("rename", key), {"label": "new name"})

    key.refresh_from_db()
    assert key.label == "new name"
    assert response["Location"] == (
        f"/sentry/setup/1/?done=renamed&key={key.pk}#key-{key.pk}"
    )
    assert (
        "Key renamed to “new name”."
        in keeper.get(response["Location"]).content.decode()
    )


def test_a_bad_new_label_changes_nothing(keeper):
    key = make_key(label="old", project_id=1)

    response = keeper.post(action_url("rename", key), {"label": "x" * 200})

    assert response.status_code == 400
    key.refresh_from_db()
    assert key.label == "old"
    assert "A label has at most 128 characters." in response.content.decode()


def test_a_disabled_key_is_refused_by_the_ingest_endpoints_until_enabled(keeper):
    key = make_key(label="shop", project_id=1)
    assert send_event(key.public_key, 1).status_code == 200

    response = keeper.post(action_url("disable", key))

    assert response["Location"].startswith("/sentry/setup/1/?done=disabled&")
    assert ProjectKey.objects.get().is_active is False
    assert send_event(key.public_key, 1, "while disabled").status_code == 403
    assert not Message.objects.filter(message="while disabled").exists()
    html = keeper.get(response["Location"]).content.decode()
    assert "Key “shop” disabled: events sent with its DSN are refused." in html

    keeper.post(action_url("enable", key))

    assert ProjectKey.objects.get().is_active is True
    assert send_event(key.public_key, 1, "enabled again").status_code == 200
    assert Message.objects.filter(message="enabled again").exists()


def test_a_rotated_key_refuses_the_old_dsn_and_accepts_the_new(keeper):
    key = make_key(label="shop", project_id=1, rate_limit=50)
    old = key.public_key
    assert send_event(old, 1).status_code == 200

    response = keeper.post(action_url("rotate", key))

    key.refresh_from_db()
    assert key.public_key != old
    assert re.fullmatch(r"[0-9a-f]{32}", key.public_key)
    # The same key otherwise: its label, project, limit and id stay.
    assert (key.label, key.project_id, key.rate_limit) == ("shop", 1, 50)
    assert send_event(old, 1, "old dsn").status_code == 403
    assert send_event(key.public_key, 1, "new dsn").status_code == 200
    assert not Message.objects.filter(message="old dsn").exists()
    assert Message.objects.filter(message="new dsn").exists()
    html = keeper.get(response["Location"]).content.decode()
    assert "Key “shop” rotated: its new DSN is below." in html
    assert dsn_field(html, key) == f"http://{key.public_key}@testserver/sentry/1"
    assert old not in html


def test_rotating_a_key_with_a_secret_replaces_the_secret_too(keeper):
    key = make_key(label="shop", project_id=1, secret_key="a" * 32)

    keeper.post(action_url("rotate", key))

    key.refresh_from_db()
    assert re.fullmatch(r"[0-9a-f]{32}", key.secret_key)
    assert key.secret_key != "a" * 32


@override_settings(SENTRY_INGEST_KEY_CACHE_TIMEOUT=60)
def test_the_key_cache_of_this_process_forgets_a_changed_key(keeper):
    key = make_key(label="shop", project_id=1)
    assert send_event(key.public_key, 1).status_code == 200  # now cached

    keeper.post(action_url("disable", key))
    assert send_event(key.public_key, 1).status_code == 403

    keeper.post(action_url("enable", key))
    old = key.public_key
    assert send_event(old, 1).status_code == 200
    keeper.post(action_url("rotate", key))
    assert send_event(old, 1).status_code == 403


@pytest.mark.parametrize("action", ["rename", "disable", "enable", "rotate"])
def test_an_unknown_key_is_a_404(keeper, action):
    url = reverse(f"sentry:setup-{action}", args=[987654])

    assert keeper.post(url, {"label": "x"}).status_code == 404


@pytest.mark.parametrize("action", ["rename", "disable", "enable", "rotate"])
def test_the_actions_ignore_a_next_address(keeper, action):
    key = make_key(label="shop", project_id=1)

    response = keeper.post(
        action_url(action, key),
        {"label": "x", "next": "https://evil.example.com/"},
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/sentry/setup/1/?done=")


def test_creating_ignores_a_next_address(keeper):
    response = keeper.post(
        CREATE, {"label": "x", "next": "//evil.example.com/", "project": "1"}
    )

    assert response["Location"].startswith("/sentry/setup/1/?done=created")


def test_the_actions_need_a_csrf_token(django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    key = make_key(label="shop", project_id=1)

    for url in [CREATE, *(action_url(a, key) for a in ("rename", "disable", "rotate"))]:
        assert browser.post(url, {"label": "x"}).status_code == 403, url

    assert list(ProjectKey.objects.values_list("public_key", "label", "is_active")) == [
        (key.public_key, "shop", True)
    ]


def test_the_forms_on_the_page_carry_a_csrf_token_and_work(django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    make_key(label="shop", project_id=1)
    html = browser.get(project_url(1)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    response = browser.post(CREATE, {"label": "new", "csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert ProjectKey.objects.filter(label="new").exists()


@pytest.mark.parametrize("done", ["created", "bogus", "<script>"])
def test_a_done_message_names_only_a_key_of_the_project(keeper, done):
    elsewhere = make_key(label="other project", project_id=2)
    make_key(label="shop", project_id=1)

    html = keeper.get(project_url(1), {"done": done, "key": elsewhere.pk}).content
    assert b'class="notice ok"' not in html


# --- the snippets -------------------------------------------------------------


def test_the_snippets_quote_the_dsn_for_their_language():
    hostile = "http://k\"'\\#{x}$y@host/sentry/1"
    by_slug = {platform.slug: platform.snippet(hostile) for platform in PLATFORMS}

    assert by_slug["python"] == (
        'import sentry_sdk\n\nsentry_sdk.init(dsn="http://k\\"\'\\\\#{x}$y@host/sentry/1")\n'
    )
    # Ruby and PHP: single quotes, so neither #{} nor $ is interpolated.
    assert "config.dsn = 'http://k\"\\'\\\\#{x}$y@host/sentry/1'" in by_slug["ruby"]
    assert "['dsn' => 'http://k\"\\'\\\\#{x}$y@host/sentry/1']" in by_slug["php"]
    assert 'Dsn: "http://k\\"\'\\\\#{x}$y@host/sentry/1"' in by_slug["go"]


def test_sentry_createkey_prints_the_python_snippet_of_the_page(keeper):
    out = io.StringIO()
    call_command(
        "sentry_createkey",
        "--label",
        "shop",
        "--url",
        "http://testserver/sentry/",
        stdout=out,
    )

    html = keeper.get(project_url(1)).content.decode()
    on_the_page = re.search(r'<pre id="code-python"[^>]*>(.*?)</pre>', html, re.S)
    assert unescape(on_the_page.group(1)) in out.getvalue()
