import sys

import sentry_sdk


class PaymentError(Exception):
    pass


def charge(order):
    response = {"code": "card_declined", "retry": False, "amounts": [1200, "EUR"]}
    status = response["code"]
    raise PaymentError(f"card declined for order {order['id']}")


def checkout(order):
    try:
        charge(order)
    except PaymentError as error:
        raise RuntimeError(f"could not check out order {order['id']}") from error


def refund(order):
    try:
        charge(order)
    except PaymentError:
        reason = "no charge to refund"
        raise LookupError(f"refund failed for order {order['id']}")


sentry_sdk.init(
    dsn=sys.argv[1],
    release="shop@1.2.3",
    environment="staging",
    server_name="py-web-01",
    default_integrations=False,
)
for action in (checkout, refund):
    try:
        action({"id": 17, "lines": 2})
    except Exception:
        sentry_sdk.capture_exception()
sentry_sdk.capture_message("Stock is low", level="warning")
sentry_sdk.flush()
