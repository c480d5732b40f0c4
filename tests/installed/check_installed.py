"""
Exercise an installed django-sentry: run by tests/test_packaging.py with the
Python of a fresh venv, from a temporary directory, never from the checkout.

Usage: ``python -I check_installed.py <work dir>``. Prints ``OK`` when every
check passed; any failure raises (a traceback and a non-zero exit).
"""

import os
import pathlib
import re
import sys

WORK = pathlib.Path(sys.argv[1])
sys.path.insert(0, str(WORK))  # site_urls.py, written by the test

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=False,
    SECRET_KEY="installed-check",
    ALLOWED_HOSTS=["testserver"],
    USE_TZ=True,
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(WORK / "db.sqlite3"),
        }
    },
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.staticfiles",
        "sentry",
        "sentry.client",
        "sentry.plugins.sentry_servers",
        "sentry.plugins.sentry_sites",
        "sentry.plugins.sentry_urls",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
    ROOT_URLCONF="site_urls",
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                ]
            },
        }
    ],
    STATIC_URL="/static/",
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    SENTRY_ADMINS=["ops@example.com"],
    SENTRY_URL_PREFIX="https://errors.example.com",
    SENTRY_DIGEST="inline",
    # Events name a release: the group page's releases and the releases page.
    SENTRY_RELEASE="site@1.0.0",
)
django.setup()

import sentry  # noqa: E402

# The copy under test is the installed one, not a checkout on the path.
INSTALLED = pathlib.Path(sentry.__file__).resolve().parent
assert pathlib.Path(sys.prefix).resolve() in INSTALLED.parents, (
    f"sentry imported from {INSTALLED}, outside the venv {sys.prefix}"
)

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.contrib.staticfiles import finders  # noqa: E402
from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.test.signals import template_rendered  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from sentry import notifications  # noqa: E402
from sentry.client.models import client as sentry_client  # noqa: E402
from sentry.models import GroupedMessage, Message, Project  # noqa: E402

setup_test_environment()  # sends template_rendered
rendered = set()
template_rendered.connect(
    lambda sender, template, **kwargs: rendered.add(template.name), weak=False
)

# Migrations: every one applies from an empty database.
call_command("migrate", verbosity=0)

# A new error: one notification mail, with a text and an HTML part.
checkout = RequestFactory().post("/checkout/?step=2", {"sku": "A-1"})
checkout.user = AnonymousUser()
try:
    {}["basket"]
except KeyError:
    sentry_client.create_from_exception(request=checkout)
sentry_client.create_from_text("stock sync failed", logger="stock")
assert notifications.flush(), "the mail queue did not drain"
assert len(mail.outbox) == 2, [m.subject for m in mail.outbox]
first = mail.outbox[0]
assert first.to == ["ops@example.com"], first.to
assert "KeyError" in first.subject, first.subject
group = GroupedMessage.objects.get(class_name="KeyError")
group_url = f"https://errors.example.com/sentry/group/{group.pk}/"
assert group_url in first.body, first.body
html, mimetype = first.alternatives[0]
assert mimetype == "text/html", mimetype
assert f'href="{group_url}"' in html, html

# Every dashboard page, with data, through the test client.
staff = get_user_model().objects.create_user("staff", is_staff=True)
browser = Client()
browser.force_login(staff)
message = Message.objects.filter(group=group).get()
pages = [
    reverse("sentry:index"),
    reverse("sentry:index") + "?q=basket",
    reverse("sentry:group", args=[group.pk]),
    reverse("sentry:messages", args=[group.pk]),
    reverse("sentry:group-tags", args=[group.pk]),
    reverse("sentry:group-history", args=[group.pk]),
    reverse("sentry:message", args=[group.pk, message.message_id]),
    # Reached from a searched occurrences tab: the links keep the search.
    reverse("sentry:message", args=[group.pk, message.message_id]) + "?q=basket",
    reverse("sentry:messages", args=[group.pk]) + "?q=environment:production",
    reverse("sentry:message_json", args=[group.pk, message.message_id]),
    reverse("sentry:plugin-panel", args=[group.pk, "servers"]),
    reverse("sentry:group-tags", args=[group.pk]),
    reverse("sentry:feed-messages"),
    reverse("sentry:feed-groups"),
    reverse("sentry:api-index"),
    reverse("sentry:alerts"),
    reverse("sentry:api-groups"),
    reverse("sentry:setup"),
    reverse("sentry:setup-project", args=[1]),
    reverse("sentry:projects"),
    reverse("sentry:releases", args=["default"]),
    reverse("sentry:release", args=["default", "site@1.0.0"]),
]
static_urls = set()
for url in pages:
    response = browser.get(url)
    assert response.status_code == 200, (url, response.status_code)
    static_urls.update(re.findall(r'/static/([^"?]+)', response.content.decode()))
# The project pages need the project permissions: a superuser has them.
owner = Client()
owner.force_login(
    get_user_model().objects.create_superuser("owner", "owner@example.com", "x")
)
own_project = Project.objects.get(pk=1)
for url in (
    reverse("sentry:project-settings", args=[own_project.slug]),
    reverse("sentry:project-new"),
    # The alert set-up forms (sentry/alerts/form.html).
    reverse("sentry:alerts-channel-add"),
    reverse("sentry:alerts-rule-add"),
):
    response = owner.get(url)
    assert response.status_code == 200, (url, response.status_code)
assert Client().get(reverse("sentry:login")).status_code == 200
# A change that cannot be made says why (the 400 page).
refused = browser.post(reverse("sentry:mute", args=[group.pk]), {"count": "none"})
assert refused.status_code == 400, refused.status_code
# A muted error's row has its badge; "all matching" names its cap.
muted = browser.post(reverse("sentry:mute", args=[group.pk]), {"count": "5"})
assert muted.status_code == 302, muted.status_code
stream = browser.get(reverse("sentry:index") + "?q=is:muted").content.decode()
assert 'data-field="muted" title="Muted until seen' in stream, stream
assert "changes at most 10,000 errors" in stream, stream
# The mail about a mute that ended, both parts.
unmuted = notifications.build_mail(
    message, group.pk, False, ["ops@example.com"], unmuted="Unmuted: seen 6 times"
)
assert unmuted.subject.startswith("[Sentry] Unmuted (ERROR)"), unmuted.subject
assert "Unmuted: seen 6 times." in unmuted.body, unmuted.body
assert "Unmuted: seen 6 times." in unmuted.alternatives[0][0]
outsider = Client()
outsider.force_login(get_user_model().objects.create_user("outsider"))
assert outsider.get(reverse("sentry:index")).status_code == 403

# The base plugin's templates (bundled plugins use the value-count ones).
render_to_string("sentry/plugins/widget.html", {"plugin": {"title": "T"}})
render_to_string("sentry/plugins/panel.html", {"plugin": {"title": "T"}})

templates = INSTALLED / "templates"
shipped = {
    path.relative_to(templates).as_posix()
    for path in templates.rglob("*")
    if path.is_file()
}
assert shipped, "no templates installed"
unrendered = shipped - rendered
assert not unrendered, f"templates never rendered: {sorted(unrendered)}"

# Static files: every shipped file, and every one a page links, is found
# by the staticfiles finders in the installed copy.
static = INSTALLED / "static"
shipped_static = {
    path.relative_to(static).as_posix() for path in static.rglob("*") if path.is_file()
}
assert static_urls, "the pages link no static file"
assert static_urls <= shipped_static, static_urls - shipped_static
for name in shipped_static:
    found = finders.find(name)
    assert found and pathlib.Path(found).resolve().is_relative_to(INSTALLED), name

print("OK", len(shipped), "templates", len(shipped_static), "static files", os.getpid())
