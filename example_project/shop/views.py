"""
Views of the demo shop, each failing in its own realistic way.

None of the errors is faked: each view runs ordinary code with an ordinary
bug, and django-sentry records what happens through one of its real paths:

* an exception that escapes a view reaches Django's ``got_request_exception``
  signal, which the ``sentry.client`` app listens to;
* ``logger.warning(...)`` on a ``shop.*`` logger reaches
  ``sentry.client.handlers.SentryHandler`` through ``LOGGING``;
* a view that handles an exception itself can still record it with
  ``client.create_from_exception()`` and show the returned id to the user.
"""

import json
import logging
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from sentry.client.models import client

from .forms import SignupForm
from .models import Order, Product

# "shop.views": the "shop" logger in LOGGING sends it to the Sentry handler.
logger = logging.getLogger(__name__)

#: Below this many items left, the stock page logs a warning.
LOW_STOCK = 5

#: What a new visitor's cart holds (the cart lives in the session).
STARTER_CART = {"TEA-001": 2, "MUG-002": 1}

#: Unit prices as a supplier's feed sends them: text, and one of them written
#: with a decimal comma, which ``Decimal`` rejects.
SUPPLIER_PRICES = {"TEA-001": "4.50", "MUG-002": "12,90", "POT-003": "29.00"}

#: What the (stubbed) payment gateway answers: an error page from its proxy
#: instead of the JSON the client code expects.
GATEWAY_REPLY = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


def page(request, title, lines, status=200):
    """Render the shop's plain page: a title and a few lines of text."""
    return render(
        request, "shop/page.html", {"title": title, "lines": lines}, status=status
    )


def home(request):
    """List the failing pages, each with what it demonstrates."""
    reorder = reverse("shop:reorder", args=["ORD-1001"])
    examples = [
        (
            reverse("shop:customer_stats") + "?customer=carol",
            "ZeroDivisionError in a helper",
            "The average order of a customer without orders. The stack shows "
            "the local variables of both frames (a dict and a list).",
        ),
        (
            reverse("shop:cart_add_one") + "?sku=GIFT-CARD",
            "KeyError on a missing cart item",
            "Change ?sku= to get another message in the same group.",
        ),
        (
            reverse("shop:quote") + "?sku=MUG-002&qty=3",
            "Chained exception",
            "A price the supplier wrote with a decimal comma: "
            "ValueError raised from decimal.InvalidOperation.",
        ),
        (
            reorder,
            "IntegrityError in transaction.atomic()",
            "Re-ordering copies the order with its unique reference. The "
            "transaction is rolled back, the error is still recorded.",
        ),
        (
            reverse("shop:stock") + "?sku=MUG-002",
            "Logged warning (200 response)",
            "logger.warning() with the request attached, through the logging handler.",
        ),
        (
            reverse("shop:checkout"),
            "Handled exception, recorded by hand",
            "client.create_from_exception() inside except; the page shows "
            "the recorded message id.",
        ),
        (
            reverse("shop:signup"),
            "Failing POST form",
            "Sign up without a birthday. The password you type is masked "
            "in the recorded error.",
        ),
    ]
    return render(
        request,
        "shop/home.html",
        {"examples": examples, "dashboard": reverse("sentry:index")},
    )


def average_order_value(customer, totals):
    """Return the mean of ``totals``; for a customer without orders, fail."""
    summary = {"customer": customer, "orders": len(totals), "currency": "EUR"}
    largest = max(totals, default=None)  # noqa: F841  (shown in the frame)
    # Bug: an empty order history divides by zero.
    return sum(totals) / summary["orders"]


def customer_stats(request):
    """
    Demonstrate a ``ZeroDivisionError`` raised in a helper a view calls.

    ``?customer=`` picks the customer; every one without orders fails the
    same way, so all of them land in one group whose stack has two frames
    of the shop, each with its local variables.
    """
    customer = request.GET.get("customer", "carol")
    totals = list(
        Order.objects.filter(customer=customer).values_list("total", flat=True)
    )
    average = average_order_value(customer, totals)
    return page(
        request,
        f"Orders of {customer}",
        [f"{len(totals)} orders, {average:.2f} EUR on average."],
    )


def cart_add_one(request):
    """
    Demonstrate a ``KeyError``: adding one more of a product not in the cart.

    The message names the ``?sku=`` asked for, so it differs between
    occurrences while the stack, and therefore the group, stays the same.
    """
    cart = request.session.setdefault("cart", dict(STARTER_CART))
    sku = request.GET.get("sku", "GIFT-CARD")
    # Bug: assumes the product is in the cart already.
    cart[sku] = cart[sku] + 1
    request.session.modified = True
    return page(request, "Cart", [f"{sku}: {cart[sku]}"])


def unit_price(sku):
    """Return the supplier's unit price of ``sku`` as a Decimal."""
    return Decimal(SUPPLIER_PRICES[sku])


def quote(request):
    """
    Demonstrate a chained exception (``raise ... from exc``).

    The stored error keeps both exceptions: the ``ValueError`` the view
    raises and its cause, ``decimal.InvalidOperation`` for a price written
    with a decimal comma (``?sku=MUG-002``) or ``KeyError`` for a product
    the supplier does not list.
    """
    sku = request.GET.get("sku", "MUG-002")
    quantity = int(request.GET.get("qty") or 1)
    try:
        total = unit_price(sku) * quantity
    except (KeyError, InvalidOperation) as exc:
        raise ValueError("could not price order") from exc
    return page(request, "Quote", [f"{quantity} x {sku}: {total:.2f} EUR"])


def reorder(request, reference):
    """
    Demonstrate an ``IntegrityError`` raised in ``transaction.atomic()``.

    The copy of the order keeps the original's unique reference, so the
    insert fails and the atomic block rolls back. The exception reaches
    django-sentry after that rollback and is stored in a transaction of its
    own, so the error is kept although the order was not.
    """
    original = get_object_or_404(Order, reference=reference)
    with transaction.atomic():
        duplicate = Order.objects.get(pk=original.pk)
        duplicate.pk = None
        duplicate._state.adding = True
        # Bug: the copy needs a reference of its own.
        duplicate.save()
    return page(request, "Order placed", [f"New order {duplicate.reference}."])


def stock(request):
    """
    Demonstrate a logged warning recorded by the logging handler.

    The response is a normal 200 page; the warning carries the request
    (``extra={"request": request}``), so the recorded event has its URL,
    headers and user. ``?sku=`` varies the message, not the group: the
    group is the message template.
    """
    sku = request.GET.get("sku", "MUG-002")
    product = get_object_or_404(Product, sku=sku)
    if product.stock < LOW_STOCK:
        logger.warning("stock low for %s", sku, extra={"request": request})
    return page(request, product.name, [f"{product.stock} left in stock."])


def charge_card(amount):
    """Ask the payment gateway to charge ``amount``; return its transaction id."""
    reply = GATEWAY_REPLY  # a real client would POST ``amount`` here
    return json.loads(reply)["transaction_id"]


def checkout(request):
    """
    Demonstrate a handled exception recorded with the client's API.

    The gateway's reply is not JSON. The view catches the error, records it
    with ``client.create_from_exception()`` and answers with a friendly page
    that shows the returned message id, for the customer to quote to
    support.
    """
    cart = request.session.get("cart", STARTER_CART)
    prices = dict(Product.objects.filter(sku__in=cart).values_list("sku", "price"))
    amount = sum(
        (prices.get(sku, 0) * count for sku, count in cart.items()), Decimal(0)
    )
    try:
        transaction_id = charge_card(amount)
    except ValueError:
        message_id = client.create_from_exception(request=request)
        return render(
            request,
            "shop/checkout_failed.html",
            {"message_id": message_id, "amount": amount},
            status=503,
        )
    return page(request, "Thank you", [f"Payment {transaction_id} accepted."])


def birthday_voucher(account):
    """Return the birthday voucher code of a new ``account``."""
    # Bug: the birthday is optional, so it may be None.
    month_day = account["birthday"].strftime("%m%d")
    return f"BDAY-{account['username'].upper()}-{month_day}"


def signup(request):
    """
    Demonstrate a failing POST form whose password is scrubbed.

    A valid sign-up without a birthday fails in ``birthday_voucher``. The
    recorded request has the POST data and the frame has the cleaned data,
    both with the password masked by django-sentry before storing.
    """
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        voucher = birthday_voucher(form.cleaned_data)
        return page(
            request,
            "Welcome",
            [f"Account {form.cleaned_data['username']} created.", voucher],
        )
    return render(request, "shop/signup.html", {"form": form})


def server_error(request):
    """The site's 500 page: it quotes the recorded error's id for support."""
    recorded = getattr(request, "sentry", None) or {}
    return render(
        request, "shop/500.html", {"error_id": recorded.get("id")}, status=500
    )
