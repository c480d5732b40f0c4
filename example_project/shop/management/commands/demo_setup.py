"""
``manage.py demo_setup``: a demo login and a dashboard full of real errors.

It requests the shop's failing pages in-process with Django's test client,
so every error goes through the same code paths as on a live site (view,
``got_request_exception``, logging handler, the client's API) and is stored
by django-sentry. It also makes a client key and prints its DSN with a
one-line command that sends a real event with sentry-sdk. Safe to run
again: the login, the key and the catalogue are reused, and the errors of
every run add up in the same groups.
"""

import json
import logging
import shlex
import sys
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from sentry.models import GroupedMessage, Message, ProjectKey
from shop.models import Order, Product

DASHBOARD_URL = "http://127.0.0.1:8000/sentry/"
USERNAME = "demo"
PASSWORD = "demo"
#: The client key the printed command sends with (project 1).
KEY_LABEL = "demo-sdk"

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
        key = self.ensure_key()
        before = Message.objects.count()
        with quiet_request_log():
            browser = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1:8000")
            self.visit(browser, visits())
            browser.force_login(user)
            self.visit(browser, logged_in_visits())
        self.log_warnings()
        self.summary(url, key, Message.objects.count() - before)

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

    def ensure_key(self):
        """Return the demo's client key (made once, turned on again if need be)."""
        key = ProjectKey.objects.filter(label=KEY_LABEL, project_id=1).first()
        if key is None:
            return ProjectKey.objects.create(label=KEY_LABEL, project_id=1)
        if not key.is_active:
            key.is_active = True
            key.save(update_fields=["is_active"])
        return key

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

    def summary(self, url, key, recorded):
        groups = GroupedMessage.objects.count()
        seen = GroupedMessage.objects.aggregate(total=Sum("times_seen"))["total"]
        dsn = key.get_dsn(url)
        self.stdout.write(
            self.style.SUCCESS("The demo is ready.")
            + f"\n  Dashboard: {url}"
            + f"\n  Login:     {USERNAME} / {PASSWORD}"
            + f"\n  Stored:    {groups} groups, {Message.objects.count()} "
            f"occurrences ({recorded} new, {seen or 0} times seen in all)"
            + f"\n  DSN:       {dsn}"
            + f"\n  Set-up:    {url}setup/1/"
            + "\nOnce the server runs, send it an event with sentry-sdk:"
            + f"\n  {send_command(dsn)}"
        )


def send_command(dsn):
    """Return a shell command that sends one real event to ``dsn`` with sentry-sdk."""
    code = (
        f"import sentry_sdk; sentry_sdk.init({json.dumps(dsn)}); "
        'sentry_sdk.capture_message("Hello from sentry-sdk"); sentry_sdk.flush()'
    )
    # This Python (the demo's virtualenv) has sentry-sdk: the test extra.
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"
