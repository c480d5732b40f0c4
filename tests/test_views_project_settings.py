"""
A project's settings page and the new-project page.

Who may open and post to each URL is in the access matrix of
tests/test_views.py; here, what the pages show, what they save and what
they refuse.
"""

import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, override_settings
from django.urls import reverse

from sentry.models import Project, ProjectKey
from tests.dashboard_factories import XSS, staff_client
from tests.ingest_factories import make_key, make_project

pytestmark = pytest.mark.django_db

NEW = reverse("sentry:project-new")


def settings_url(slug):
    return reverse("sentry:project-settings", args=[slug])


def manager(django_user_model, *codenames):
    """Return a client logged in as staff with these ``sentry`` permissions."""
    user = django_user_model.objects.create_user("manager", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def changer(django_user_model):
    """Staff who may create and change projects (not a superuser)."""
    return manager(django_user_model, "add_project", "change_project")


@pytest.fixture
def billing():
    return make_project(2, name="Billing worker", slug="billing", platform="python")


def form(**fields):
    values = {
        "name": "Billing worker",
        "slug": "billing",
        "platform": "python",
        "rate_limit": "",
        "retention_days": "",
    }
    values.update(fields)
    return values


def field_value(html, name):
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    assert match, name
    return unescape(match.group(1))


def error_texts(response):
    html = response.content.decode()
    return [unescape(text) for text in re.findall(r'class="errors">([^<]*)<', html)]


# --- the settings page ----------------------------------------------------------


def test_the_settings_page_shows_the_projects_fields(changer, billing):
    billing.rate_limit = 600
    billing.retention_days = 14
    billing.save()

    response = changer.get(settings_url("billing"))

    assert response.status_code == 200
    html = response.content.decode()
    assert [
        field_value(html, name)
        for name in ("name", "slug", "platform", "rate_limit", "retention_days")
    ] == ["Billing worker", "billing", "python", "600", "14"]
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'method="post"' in html


def test_empty_limits_show_as_empty_fields(changer, billing):
    html = changer.get(settings_url("billing")).content.decode()

    assert field_value(html, "rate_limit") == ""
    assert field_value(html, "retention_days") == ""


@override_settings(ALLOWED_HOSTS=["errors.example.com"])
def test_the_settings_page_lists_the_projects_keys_with_their_dsns(changer, billing):
    key = make_key(label="worker", project_id=2, secret_key="s" * 32)
    make_key(label="elsewhere", project_id=1)

    response = changer.get(settings_url("billing"), HTTP_HOST="errors.example.com")

    html = response.content.decode()
    dsns = re.findall(r'class="dsn-text" value="([^"]*)"', html)
    assert dsns == [f"http://{key.public_key}@errors.example.com/sentry/2"]
    assert "elsewhere" not in html
    assert "s" * 32 not in html
    assert f'href="{reverse("sentry:setup-project", args=[2])}"' in html


def test_saving_the_settings_changes_the_project_and_redirects_to_it(changer, billing):
    response = changer.post(
        settings_url("billing"),
        form(
            name="  Billing  ",
            slug="payments",
            platform="node",
            rate_limit="120",
            retention_days="90",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == settings_url("payments") + "?done=saved"
    billing.refresh_from_db()
    assert (
        billing.name,
        billing.slug,
        billing.platform,
        billing.rate_limit,
        billing.retention_days,
    ) == ("Billing", "payments", "node", 120, 90)
    page = changer.get(response["Location"])
    assert "Settings saved." in page.content.decode()


def test_empty_limits_are_saved_as_none(changer, billing):
    billing.rate_limit = 5
    billing.retention_days = 5
    billing.save()

    changer.post(settings_url("billing"), form())

    billing.refresh_from_db()
    assert (billing.rate_limit, billing.retention_days, billing.platform) == (
        None,
        None,
        "python",
    )


def test_the_site_project_can_be_renamed(changer):
    response = changer.post(settings_url("default"), form(name="Shop", slug="shop"))

    assert response.status_code == 302
    assert Project.objects.get(pk=1).slug == "shop"


def test_a_slug_the_admin_allowed_is_kept_while_other_fields_change(changer):
    make_project(5, name="Legacy", slug="Legacy_App")

    response = changer.post(
        settings_url("Legacy_App"), form(name="Legacy app", slug="Legacy_App")
    )

    assert response.status_code == 302
    assert Project.objects.get(pk=5).name == "Legacy app"
    refused = changer.post(
        settings_url("Legacy_App"), form(name="Legacy app", slug="Other_App")
    )
    assert refused.status_code == 400


def test_underscores_as_slugify_makes_them_are_accepted(changer, billing):
    response = changer.post(settings_url("billing"), form(slug="billing_worker_2"))

    assert response.status_code == 302
    assert Project.objects.get(pk=2).slug == "billing_worker_2"


def test_an_unknown_slug_is_404(changer):
    assert changer.get(settings_url("nothing")).status_code == 404
    assert changer.post(settings_url("nothing"), form()).status_code == 404


def test_a_project_the_user_may_not_see_is_404(changer, billing, monkeypatch):
    from sentry.views import project_settings

    monkeypatch.setattr(
        project_settings,
        "visible_projects",
        lambda user: Project.objects.exclude(slug="billing"),
    )

    assert changer.get(settings_url("billing")).status_code == 404
    assert changer.post(settings_url("billing"), form(name="x")).status_code == 404
    assert Project.objects.get(pk=2).name == "Billing worker"


BAD_FORMS = [
    ({"name": ""}, "name", "Give the project a name"),
    ({"name": "   "}, "name", "Give the project a name"),
    ({"name": "x" * 201}, "name", "at most 200"),
    ({"name": "bad\x00name"}, "name", "control characters"),
    ({"name": "line\nbreak"}, "name", "control characters"),
    ({"slug": "Billing"}, "slug", "lowercase ASCII"),
    ({"slug": "bill ing"}, "slug", "lowercase ASCII"),
    ({"slug": "-billing"}, "slug", "lowercase ASCII"),
    ({"slug": "_billing"}, "slug", "lowercase ASCII"),
    ({"slug": "bill.ing"}, "slug", "lowercase ASCII"),
    ({"slug": "café"}, "slug", "lowercase ASCII"),
    ({"slug": "b" * 51}, "slug", "at most 50"),
    ({"slug": "new"}, "slug", "names a page"),
    ({"slug": "default"}, "slug", "Another project has the slug “default”"),
    ({"slug": "", "name": "!!!"}, "slug", "Give the project a slug"),
    ({"platform": "Python 3"}, "platform", "A platform is"),
    ({"platform": "p" * 65}, "platform", "A platform is"),
    ({"rate_limit": "0"}, "rate_limit", "from 1 to"),
    ({"rate_limit": "1e3"}, "rate_limit", "from 1 to"),
    ({"rate_limit": "²"}, "rate_limit", "from 1 to"),
    ({"rate_limit": "9" * 400}, "rate_limit", "from 1 to"),
    ({"retention_days": "0"}, "retention_days", "from 1 to 36500"),
    ({"retention_days": "-3"}, "retention_days", "from 1 to 36500"),
    ({"retention_days": "36501"}, "retention_days", "from 1 to 36500"),
    ({"retention_days": "٣"}, "retention_days", "from 1 to 36500"),
    ({"retention_days": "9" * 400}, "retention_days", "from 1 to 36500"),
]


@pytest.mark.parametrize(("fields", "field", "text"), BAD_FORMS)
def test_a_bad_value_is_refused_with_a_clear_error_and_nothing_saved(
    changer, billing, fields, field, text
):
    response = changer.post(settings_url("billing"), form(**fields))

    assert response.status_code == 400
    errors = error_texts(response)
    assert len(errors) == 1 and text in errors[0], errors
    assert f'name="{field}"' in response.content.decode()
    stored = Project.objects.get(pk=2)
    assert (stored.name, stored.slug, stored.rate_limit) == (
        "Billing worker",
        "billing",
        None,
    )


def test_values_are_shown_back_escaped(changer, billing):
    response = changer.post(settings_url("billing"), form(name=XSS, slug="Bad<b>"))

    assert response.status_code == 400
    html = response.content.decode()
    assert XSS not in html and "<b>" not in html
    assert field_value(html, "name") == XSS


def test_the_done_message_is_chosen_not_echoed(changer, billing):
    html = changer.get(settings_url("billing") + "?done=<b>owned</b>").content.decode()

    assert "owned" not in html


def test_a_redirect_never_leaves_the_dashboard(changer, billing):
    response = changer.post(
        settings_url("billing") + "?next=https://evil.example/",
        form(),
        HTTP_REFERER="https://evil.example/",
    )

    assert response["Location"] == settings_url("billing") + "?done=saved"


def test_only_get_and_post_are_allowed(changer, billing):
    assert changer.put(settings_url("billing")).status_code == 405
    assert changer.delete(settings_url("billing")).status_code == 405
    assert changer.delete(NEW).status_code == 405
    assert Project.objects.filter(pk=2).exists()


def test_posting_needs_a_csrf_token(django_user_model, billing):
    user = django_user_model.objects.create_superuser("root", "r@example.com", "pw")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    assert browser.post(settings_url("billing"), form(name="x")).status_code == 403
    assert browser.post(NEW, form(slug="other")).status_code == 403
    assert Project.objects.get(pk=2).name == "Billing worker"
    assert not Project.objects.filter(slug="other").exists()


def test_the_settings_page_takes_a_fixed_number_of_queries(
    changer, billing, django_assert_num_queries
):
    for n in range(5):
        make_key(label=f"key {n}", project_id=2)

    # The session, the user, the project, its keys, the permissions.
    with django_assert_num_queries(6):
        assert changer.get(settings_url("billing")).status_code == 200


# --- creating a project ---------------------------------------------------------


def test_a_new_project_is_created_and_opened(changer):
    assert changer.get(NEW).status_code == 200

    response = changer.post(
        NEW, form(name="Browser frontend", slug="", platform="javascript")
    )

    project = Project.objects.get(slug="browser-frontend")
    assert (project.name, project.platform, project.rate_limit) == (
        "Browser frontend",
        "javascript",
        None,
    )
    assert response["Location"] == settings_url("browser-frontend") + "?done=created"
    page = changer.get(response["Location"]).content.decode()
    assert "Project created." in page
    assert "no client key yet" in page


def test_a_new_project_with_a_taken_slug_is_refused(changer, billing):
    response = changer.post(NEW, form(name="Other"))

    assert response.status_code == 400
    assert error_texts(response) == [
        "Another project has the slug “billing”: choose another one."
    ]
    assert Project.objects.filter(name="Other").count() == 0


def test_a_slug_taken_meanwhile_is_refused_not_a_500(changer, billing, monkeypatch):
    from sentry.views import project_settings

    # The check passes, then another request takes the slug before the save.
    monkeypatch.setattr(project_settings, "read_slug", lambda text, name, p: text)

    response = changer.post(NEW, form(name="Other"))

    assert response.status_code == 400
    assert error_texts(response) == [
        "Another project has the slug “billing”: choose another one."
    ]


# --- links ---------------------------------------------------------------------


def test_the_set_up_pages_link_to_the_settings_pages_for_who_may_use_them(
    changer, billing, django_user_model
):
    setup_page = changer.get(reverse("sentry:setup-project", args=[2]))
    setup_list = changer.get(reverse("sentry:setup"))

    assert f'href="{settings_url("billing")}"' in setup_page.content.decode()
    assert f'href="{NEW}"' in setup_list.content.decode()

    reader = staff_client("reader")
    assert (
        settings_url("billing")
        not in reader.get(reverse("sentry:setup-project", args=[2])).content.decode()
    )
    assert NEW not in reader.get(reverse("sentry:setup")).content.decode()


def test_the_page_has_no_delete(changer, billing):
    html = changer.get(settings_url("default")).content.decode().lower()

    assert "delete" not in html
    assert ProjectKey.objects.count() == 0
