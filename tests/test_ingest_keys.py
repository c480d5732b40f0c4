"""Client keys: their DSN, the admin and ``manage.py sentry_createkey``."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory, override_settings

from sentry.models import ProjectKey
from tests.ingest_factories import make_key, make_project

pytestmark = pytest.mark.django_db

DSN_RE = re.compile(r"^https?://([0-9a-f]{32})@[^/]+(/.*)?/(\d+)$")


def test_a_new_key_gets_a_random_public_key():
    first, second = make_key(), make_key(label="other")

    assert re.fullmatch(r"[0-9a-f]{32}", first.public_key)
    assert first.public_key != second.public_key
    assert first.is_active
    assert first.rate_limit is None


def test_the_dsn_is_built_from_the_mount_url():
    key = make_key(project_id=7)

    dsn = key.get_dsn("https://errors.example.com/sentry/")

    assert dsn == f"https://{key.public_key}@errors.example.com/sentry/7"


def test_the_dsn_carries_the_secret_only_when_asked():
    key = make_key(secret_key="s" * 32)

    assert ":" not in key.get_dsn("http://h:8000/sentry").split("@")[0][7:]
    assert key.get_dsn("http://h:8000/sentry", include_secret=True) == (
        f"http://{key.public_key}:{'s' * 32}@h:8000/sentry/42"
    )


@override_settings(SENTRY_URL_PREFIX="https://errors.example.com")
def test_the_dsn_property_uses_the_url_prefix():
    key = make_key()
    assert key.dsn == f"https://{key.public_key}@errors.example.com/sentry/42"


def test_without_an_address_the_dsn_is_none():
    assert make_key().dsn is None


def test_the_dsn_can_be_taken_from_a_request():
    key = make_key()
    request = RequestFactory().get("/", HTTP_HOST="localhost:8000")

    assert key.get_dsn(request=request) == (
        f"http://{key.public_key}@localhost:8000/sentry/42"
    )


def test_the_command_creates_a_key_and_prints_its_dsn():
    make_project(3, slug="billing")
    out = io.StringIO()

    call_command(
        "sentry_createkey",
        "--label",
        "billing",
        "--project",
        "3",
        "--url",
        "https://errors.example.com/sentry/",
        "--rate-limit",
        "100",
        stdout=out,
    )

    key = ProjectKey.objects.get()
    assert (key.label, key.project_id, key.rate_limit) == ("billing", 3, 100)
    dsn = f"https://{key.public_key}@errors.example.com/sentry/3"
    # The DSN alone on the first line (scripts read it there), then the
    # Python set-up code the dashboard's set-up page shows.
    assert out.getvalue() == (
        f"{dsn}\n"
        "\n"
        'In the application that reports (pip install "sentry-sdk[django]"):\n'
        "\n"
        "import sentry_sdk\n"
        "\n"
        f'sentry_sdk.init(dsn="{dsn}")\n'
    )
    assert DSN_RE.match(out.getvalue().splitlines()[0])


def test_the_command_takes_a_project_slug():
    make_project(7, slug="billing")
    out = io.StringIO()

    call_command(
        "sentry_createkey",
        *("--label", "worker", "--project", "billing"),
        *("--url", "https://errors.example.com/sentry/"),
        stdout=out,
    )

    key = ProjectKey.objects.get()
    assert key.project_id == 7
    assert out.getvalue().splitlines()[0].endswith("@errors.example.com/sentry/7")


@pytest.mark.parametrize("project", ["99", "no-such-project", "-1", ""])
def test_the_command_refuses_a_project_that_does_not_exist(project):
    with pytest.raises(CommandError, match="No project"):
        call_command(
            "sentry_createkey",
            *("--label", "worker", "--project", project),
            *("--url", "https://errors.example.com/sentry/"),
            stdout=io.StringIO(),
        )
    assert not ProjectKey.objects.exists()


@override_settings(SENTRY_URL_PREFIX="http://localhost:8000")
def test_the_command_falls_back_to_the_url_prefix():
    out = io.StringIO()

    call_command("sentry_createkey", "--label", "shop", "--secret", stdout=out)

    key = ProjectKey.objects.get()
    assert key.secret_key
    dsn = f"http://{key.public_key}:{key.secret_key}@localhost:8000/sentry/1"
    assert out.getvalue().splitlines()[0] == dsn
    assert f'sentry_sdk.init(dsn="{dsn}")' in out.getvalue()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--url", "errors.example.com/sentry"],
        ["--url", "http://h/", "--rate-limit", "0"],
    ],
)
def test_the_command_refuses_what_makes_no_dsn_and_creates_nothing(args):
    with pytest.raises(CommandError):
        call_command("sentry_createkey", "--label", "shop", *args)
    assert ProjectKey.objects.count() == 0


def test_keys_are_managed_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/sentry/projectkey/add/",
        {
            "label": "mobile",
            "project": str(make_project(5).pk),
            "public_key": "f" * 32,
            "secret_key": "",
            "is_active": "on",
            "rate_limit": "",
        },
    )
    assert response.status_code == 302
    key = ProjectKey.objects.get()
    assert key.label == "mobile"

    with override_settings(SENTRY_URL_PREFIX="https://errors.example.com"):
        page = admin_client.get(f"/admin/sentry/projectkey/{key.pk}/change/")
    assert f"https://{'f' * 32}@errors.example.com/sentry/5".encode() in page.content
    assert b"mobile" in admin_client.get("/admin/sentry/projectkey/").content
