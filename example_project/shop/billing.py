"""
The billing worker: a job, apart from the shop's web pages, that charges invoices.

It reports to a project of its own ("Billing worker") with the official
sentry-sdk, as any service outside the Django site would: ``demo_setup``
runs it against the site's envelope endpoint. It shares a helper with the
shop (``average_order_value``), so the same bug raised in both services
shows as one group in each project, not as one group for both.
"""

from decimal import Decimal

from .views import average_order_value

#: ``(invoice, customer, order totals, currency)``: the month's invoices.
INVOICES = [
    ("INV-2001", "alice", [Decimal("17.40"), Decimal("29.00")], "EUR"),
    ("INV-2002", "erin", [], "EUR"),
    ("INV-2003", "bob", [Decimal("12.90")], "CHF"),
]

#: Rates the worker can charge in; a missing one is its bug.
RATES = {"EUR": Decimal("1"), "USD": Decimal("1.08")}


def charge(invoice, customer, totals, currency):
    """Return the amount charged for ``invoice`` (failing as the worker does)."""
    rate = RATES[currency]
    # The loyalty discount uses the shop's helper, which fails on no orders.
    average = average_order_value(customer, totals)
    return (sum(totals) - average / 10) * rate


def run(sentry_sdk):
    """Charge the month's invoices, reporting each failure; return how many failed."""
    failed = 0
    for invoice, customer, totals, currency in INVOICES:
        with sentry_sdk.new_scope() as scope:
            scope.set_tag("invoice", invoice)
            scope.set_user({"username": customer})
            try:
                charge(invoice, customer, totals, currency)
            except Exception:
                failed += 1
                sentry_sdk.capture_exception()
    sentry_sdk.capture_message(
        f"billing run finished: {failed} of {len(INVOICES)} invoices failed",
        level="warning",
    )
    return failed
