"""
Hostile review of the set-up pages: they narrow projects with
visible_projects(), the one place a later change restricts projects to some
users, so that a hidden project's keys are neither shown nor changed.
"""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from sentry import projects
from sentry.models import Project, ProjectKey
from tests.ingest_factories import make_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def keeper(django_user_model):
    user = django_user_model.objects.create_user("keeper", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_projectkey", "change_projectkey"])
    )
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def hidden(monkeypatch):
    """Project 42 exists, with a key, but its users are others."""
    key = make_key(project_id=42, label="billing-secret-app")
    make_key(project_id=7, label="blog")
    monkeypatch.setattr(
        projects, "visible_projects", lambda user: Project.objects.exclude(pk=42)
    )
    return key


def test_a_hidden_project_is_not_listed(keeper, hidden):
    page = keeper.get(reverse("sentry:setup")).content.decode()

    assert "Project 7" in page
    assert "Project 42" not in page


def test_a_hidden_projects_page_is_a_404(keeper, hidden):
    response = keeper.get(reverse("sentry:setup-project", args=[42]))

    assert response.status_code == 404
    assert hidden.public_key not in response.content.decode()


@pytest.mark.parametrize("action", ["rename", "disable", "enable", "rotate"])
def test_a_hidden_projects_key_cannot_be_changed(action, keeper, hidden):
    before = ProjectKey.objects.values().get(pk=hidden.pk)

    response = keeper.post(
        reverse(f"sentry:setup-{action}", args=[hidden.pk]), {"label": "mine"}
    )

    assert response.status_code == 404
    assert ProjectKey.objects.values().get(pk=hidden.pk) == before


def test_no_key_is_created_in_a_hidden_project(keeper, hidden):
    response = keeper.post(
        reverse("sentry:setup-create"), {"label": "x", "project": "42"}
    )

    assert response.status_code == 400
    assert "There is no project 42" in response.content.decode()
    assert ProjectKey.objects.filter(project_id=42).count() == 1
