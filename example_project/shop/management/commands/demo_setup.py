"""
``manage.py demo_setup``: a demo login and a dashboard full of real errors.

It requests the shop's failing pages in-process with Django's test client,
so every error goes through the same code paths as on a live site (view,
``got_request_exception``, logging handler, the client's API) and is stored
by django-sentry, under the site's own project (project 1). A second
project, "Billing worker", gets its own client key, and the billing job
(:mod:`shop.billing`) reports its failures to it with the real sentry-sdk,
through the envelope endpoint of this site served on a local port for the
occasion. It also prints the site's DSN with a one-line command that sends
a real event with sentry-sdk. Safe to run again: the login, the projects,
the keys and the catalogue are reused, and the errors of every run add up
in the same groups.
"""

import json
import logging
import shlex
import sys
import threading
from contextlib import contextmanager
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.core.wsgi import get_wsgi_application
from django.db.models import Count, Sum
from django.test import Client, override_settings
from django.urls import reverse

from sentry.models import GroupedMessage, Message, Project, ProjectKey
from shop import billing
from shop.models import Order, Product

DASHBOARD_URL = "http://127.0.0.1:8000/sentry/"
USERNAME = "demo"
PASSWORD = "demo"
#: The client key the printed command sends with (project 1).
KEY_LABEL = "demo-sdk"
#: The second project, and the key its worker reports with.
BILLING = {"name": "Billing worker", "slug": "billing-worker", "platform": "python"}
BILLING_KEY_LABEL = "billing-worker"

#: Typed into the sign-up form; django-sentry must mask it before storing.
SIGNUP_PASSWORD = "hunter2-demo-Sekr1t"

PRODUCTS = [
    ("TEA-001", "Sencha green tea, 100 g", "4.50", 40),
    ("MUG-002", "Stoneware mug", "12.90", 3),
    ("POT-003", "Cast-iron teapot", "29.00", 1),
]
ORDERS = [
    ("ORD-1001", "alice", "17.40"),
    ("ORD-1002", "alice", "29.00"),
    ("ORD-1003", "bob", "12.90"),
]
PRODUCT_SKUS = [sku for sku, *_ in PRODUCTS]


def visits():
    """Return the pages to request: ``(method, url, data, expected status)``."""
    stats = reverse("shop:customer_stats")
    cart = reverse("shop:cart_add_one")
    quote = reverse("shop:quote")
    stock = reverse("shop:stock")
    signup = {
        "username": "newcustomer",
        "email": "new@example.com",
        "password": SIGNUP_PASSWORD,
        "birthday": "",
    }
    return [
        # One group, several customers: ZeroDivisionError in a helper.
        *(("get", stats, {"customer": name}, 500) for name in ("carol", "dave")),
        # One group, a different message for each SKU: KeyError.
        *(("get", cart, {"sku": sku}, 500) for sku in ("GIFT-CARD", "SAUCER-9")),
        # Chained exceptions: two causes, so two groups.
        ("get", quote, {"sku": "MUG-002", "qty": "1"}, 500),
        ("get", quote, {"sku": "MUG-002", "qty": "3"}, 500),
        ("get", quote, {"sku": "CUP-404", "qty": "2"}, 500),
        # IntegrityError in transaction.atomic().
        ("get", reverse("shop:reorder", args=["ORD-1001"]), {}, 500),
        ("get", reverse("shop:reorder", args=["ORD-1003"]), {}, 500),
        # Logged warnings: 200 pages (TEA-001 is well stocked, no warning).
        *(("get", stock, {"sku": sku}, 200) for sku in PRODUCT_SKUS),
        # A handled exception recorded with client.create_from_exception().
        ("get", reverse("shop:checkout"), {}, 503),
        # A failing POST with a password in it.
        ("post", reverse("shop:signup"), signup, 500),
    ]


def logged_in_visits():
    """Return the pages a logged-in user requests (the user is recorded)."""
    return [
        ("get", reverse("shop:customer_stats"), {"customer": USERNAME}, 500),
        ("get", reverse("shop:reorder", args=["ORD-1002"]), {}, 500),
        ("get", reverse("shop:checkout"), {}, 503),
    ]


@contextmanager
def quiet_request_log():
    """
    Keep Django's "Internal Server Error" tracebacks off the console.

    The errors are expected here and recorded by django-sentry; printing
    each traceback would bury the summary.
    """
    request_logger = logging.getLogger("django.request")
    level = request_logger.level
    request_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        request_logger.setLevel(level)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def local_server():
    """
    Serve this site on a free port of 127.0.0.1 while the block runs.

    The billing worker's sentry-sdk sends over HTTP, as it would to a
    deployed site; events are digested before the answer (``inline``), so
    they are stored when the block ends.
    """
    with override_settings(SENTRY_DIGEST="inline"):
        server = make_server(
            "127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}/sentry/"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


class Command(BaseCommand):
    help = (
        "Create the demo login (demo / demo) and record real errors by "
        "requesting the shop's failing pages."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url",
            default=DASHBOARD_URL,
            help=f"Where runserver serves the dashboard (default: {DASHBOARD_URL}).",
        )

    def handle(self, *, url, **options):
        self.verbosity = options["verbosity"]
        url = url.rstrip("/") + "/"
        self.seed_shop()
        user = self.ensure_login()
        key = self.ensure_key(Project.objects.get(pk=1), KEY_LABEL)
        billing_project = self.ensure_billing_project()
        billing_key = self.ensure_key(billing_project, BILLING_KEY_LABEL)
        before = Message.objects.count()
        with quiet_request_log():
            browser = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1:8000")
            self.visit(browser, visits())
            browser.force_login(user)
            self.visit(browser, logged_in_visits())
        self.log_warnings()
        self.run_billing_worker(billing_key)
        self.summary(url, key, billing_key, Message.objects.count() - before)

    def seed_shop(self):
        """Create or update the catalogue and the orders the views need."""
        for sku, name, price, stock in PRODUCTS:
            Product.objects.update_or_create(
                sku=sku, defaults={"name": name, "price": price, "stock": stock}
            )
        for reference, customer, total in ORDERS:
            Order.objects.update_or_create(
                reference=reference, defaults={"customer": customer, "total": total}
            )

    def ensure_login(self):
        """Create or reset the staff superuser ``demo`` / ``demo``."""
        user, _ = get_user_model().objects.get_or_create(
            username=USERNAME, defaults={"email": "demo@example.com"}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(PASSWORD)
        user.save()
        return user

    def ensure_billing_project(self):
        """Return the "Billing worker" project (made once, found by its slug)."""
        project, _ = Project.objects.get_or_create(
            slug=BILLING["slug"], defaults=BILLING
        )
        return project

    def ensure_key(self, project, label):
        """Return a key of ``project`` (made once, turned on again if need be)."""
        key = ProjectKey.objects.filter(label=label, project=project).first()
        if key is None:
            return ProjectKey.objects.create(label=label, project=project)
        if not key.is_active:
            key.is_active = True
            key.save(update_fields=["is_active"])
        return key

    def run_billing_worker(self, key):
        """Run the billing job with sentry-sdk reporting to ``key``'s project."""
        try:
            import sentry_sdk
        except ImportError as exc:
            raise CommandError(
                "The billing worker reports with sentry-sdk: install it "
                '(pip install -e ".[demo]").'
            ) from exc
        with local_server() as base_url:
            sentry_sdk.init(
                dsn=key.get_dsn(base_url),
                # Only what the worker reports: no integrations hooking into
                # this process (its Django requests, its logging).
                default_integrations=False,
                auto_enabling_integrations=False,
                server_name="billing-1",
                release="billing@1.4.0",
            )
            try:
                billing.run(sentry_sdk)
                sentry_sdk.flush(timeout=30)
            finally:
                sentry_sdk.get_client().close()

    def visit(self, browser, pages):
        """Request ``pages``; fail if one answers other than expected."""
        for method, url, data, expected in pages:
            response = getattr(browser, method)(url, data)
            if self.verbosity >= 2:
                self.stdout.write(f"{method.upper()} {url} {data} -> {response}")
            if response.status_code != expected:
                raise CommandError(
                    f"{method.upper()} {url} {data} answered "
                    f"{response.status_code}, expected {expected}."
                )

    def log_warnings(self):
        """Log a few warnings the way a background job of the shop would."""
        inventory = logging.getLogger("shop.inventory")
        for feed, hours in (("teas.csv", 26), ("ceramics.csv", 49)):
            inventory.warning(
                "supplier feed %s is %d hours old",
                feed,
                hours,
                extra={"data": {"feed": feed, "max_age_hours": 24}},
            )

    def summary(self, url, key, billing_key, recorded):
        groups = GroupedMessage.objects.count()
        seen = GroupedMessage.objects.aggregate(total=Sum("times_seen"))["total"]
        dsn = key.get_dsn(url)
        projects = Project.objects.annotate(group_count=Count("groups")).order_by("pk")
        # One line first: what was recorded and where to look.
        self.stdout.write(
            self.style.SUCCESS(
                f"Recorded {recorded} occurrences of the shop's and the billing "
                f"worker's errors ({groups} groups): see them at {url} "
                f"(log in as {USERNAME} / {PASSWORD}) once the server runs."
            )
            + "\n  The WARNING lines printed above are some of those errors, "
            "logged by the shop on purpose; nothing went wrong."
            + f"\n  Dashboard: {url}"
            + f"\n  Login:     {USERNAME} / {PASSWORD}"
            + f"\n  Stored:    {groups} groups, {Message.objects.count()} "
            f"occurrences ({recorded} new, {seen or 0} times seen in all)"
            + "".join(
                f"\n  Project:   {project.name} ({project.slug}, id {project.pk}): "
                f"{project.group_count} groups"
                for project in projects
            )
            + f"\n  DSN:       {dsn}"
            + f"\n  Set-up:    {url}setup/1/"
            + f"\n  Billing:   {billing_key.get_dsn(url)}"
            + f"\n  Settings:  {url}projects/{billing_key.project.slug}/settings/"
            + "\nOnce the server runs, send it an event with sentry-sdk:"
            + f"\n  {send_command(dsn)}"
        )


def send_command(dsn):
    """Return a shell command that sends one real event to ``dsn`` with sentry-sdk."""
    code = (
        f"import sentry_sdk; sentry_sdk.init({json.dumps(dsn)}); "
        'sentry_sdk.capture_message("Hello from sentry-sdk"); sentry_sdk.flush()'
    )
    # This Python (the demo's virtualenv) has sentry-sdk: the demo extra.
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"
