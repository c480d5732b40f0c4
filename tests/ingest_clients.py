"""
Real clients, run in a separate process: ``python -m tests.ingest_clients MODE``.

Separate so that no client ever captures the test server's own errors. Each
mode prints one JSON line with what the client returned.

* ``sdk DSN gzip|br|none TIMESTAMP`` -- sentry-sdk: a chained exception, a
  warning message, log records, with tags, user, breadcrumbs and context,
  each event back-dated to TIMESTAMP (RFC 3339) by ``before_send``;
* ``sdk-django DSN`` -- sentry-sdk's Django integration on a failing view;
* ``raven DSN TIMESTAMP`` -- the legacy raven client (store endpoint): a
  chained exception and a warning message with tags, user and breadcrumbs,
  dated TIMESTAMP;
* ``remote`` -- django-sentry's remote client in a client-only site
  (``tests.settings_remote_client``), exiting without flushing.
"""

import datetime as dt
import json
import logging
import os
import sys
import time


def divide(a, b):
    ratio = a / b
    return ratio


def handler(items):
    try:
        divide(len(items), 0)
    except ZeroDivisionError as e:
        raise ValueError("could not compute ratio") from e


def backdate(timestamp):
    """Return a ``before_send`` that dates every event ``timestamp``."""

    def before_send(event, hint):
        event["timestamp"] = timestamp
        return event

    return before_send


def sdk(dsn, compression, timestamp):
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration

    experiments = {
        "gzip": {"transport_compression_algo": "gzip"},
        "br": {"transport_compression_algo": "br"},
        "none": {"transport_compression_level": 0},
    }[compression]
    sentry_sdk.init(
        dsn=dsn,
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)
        ],
        release="myapp@1.2.3",
        environment="staging",
        server_name="web-01",
        before_send=backdate(timestamp),
        _experiments=experiments,
    )
    sentry_sdk.set_tag("tenant", "acme")
    sentry_sdk.set_user({"id": "u-7", "email": "jane@example.com", "username": "jane"})
    sentry_sdk.set_context("order", {"id": 991, "total": 12.5})
    sentry_sdk.add_breadcrumb(category="auth", message="user logged in", level="info")
    ids = {}
    for attempt in range(2):
        try:
            handler(["1", "2", "3"])
        except Exception:
            ids[f"exception{attempt}"] = sentry_sdk.capture_exception()
    ids["message"] = sentry_sdk.capture_message(
        "Payment gateway timed out", level="warning"
    )
    log = logging.getLogger("myapp.orders")
    for order in (1234, 5678):
        log.error("order %s failed", order)
        ids[f"log{order}"] = sentry_sdk.last_event_id()
    with sentry_sdk.new_scope() as scope:
        scope.fingerprint = ["payment-gateway", "{{ default }}"]
        ids["fingerprinted"] = sentry_sdk.capture_message("gateway said no")
    sentry_sdk.flush(timeout=10)
    return ids


def sdk_django(dsn):
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings_sdk_django"
    import django
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    # sentry-sdk 3 replaced send_default_pii by data_collection, whose defaults
    # already send a request's body (its sensitive keys filtered by the SDK).
    major = int(sentry_sdk.VERSION.split(".")[0])
    pii = {"send_default_pii": True} if major < 3 else {}
    sentry_sdk.init(
        dsn=dsn,
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[DjangoIntegration()],
        server_name="web-02",
        **pii,
        _experiments={"transport_compression_algo": "gzip"},
    )
    django.setup()
    from django.test import Client

    response = Client(raise_request_exception=False).post(
        "/orders/5/checkout/", {"password": "hunter2", "qty": "1"}
    )
    event_id = sentry_sdk.last_event_id()
    sentry_sdk.flush(timeout=10)
    return {"status": response.status_code, "event": event_id}


def raven_client(dsn, timestamp):
    import raven
    from raven.transport.http import HTTPTransport

    client = raven.Client(
        dsn,
        transport=HTTPTransport,
        release="2.0",
        environment="production",
        name="raven-host",
        tags={"tenant": "acme"},
        install_sys_hook=False,
        install_logging_hook=False,
        raise_send_errors=True,
    )
    client.user_context({"id": "u-9", "username": "sam"})
    client.captureBreadcrumb(category="cron", message="export started", level="info")
    # raven wants a naive UTC datetime.
    date = dt.datetime.fromisoformat(timestamp).astimezone(dt.UTC).replace(tzinfo=None)
    ids = {}
    try:
        handler(["1"])
    except Exception:
        ids["exception"] = client.captureException(date=date)
    ids["message"] = client.captureMessage(
        "Disk almost full", level="warning", date=date
    )
    return ids


def remote():
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings_remote_client"
    import django

    django.setup()
    from sentry.client.handlers import SentryHandler
    from sentry.client.models import client, get_client

    errors = []

    class Collect(logging.Handler):
        def emit(self, record):
            errors.append(record.getMessage())
            # The process is about to exit: report from here as well.
            print("SENTRY-ERROR " + record.getMessage(), file=sys.stderr, flush=True)

    logging.getLogger("sentry.errors").addHandler(Collect())
    log = logging.getLogger("shop.payments")
    log.addHandler(SentryHandler())
    started = time.monotonic()
    ids = {}
    try:
        handler(["1"])
    except Exception:
        ids["exception"] = client.create_from_exception()
    ids["text"] = client.create_from_text("Nightly export skipped", level=30)
    log.error("payment %s refused", 77, extra={"data": {"card": "4111 1111 1111 1111"}})
    elapsed = time.monotonic() - started
    # No flush here: the exit must send what is queued.
    return {
        "ids": ids,
        "client": type(get_client()).__name__,
        "elapsed": elapsed,
        "errors_before_exit": len(errors),
    }


def main(argv):
    mode = argv[1]
    if mode == "sdk":
        output = sdk(argv[2], argv[3], argv[4])
    elif mode == "sdk-django":
        output = sdk_django(argv[2])
    elif mode == "raven":
        output = raven_client(argv[2], argv[3])
    elif mode == "remote":
        output = remote()
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(output), flush=True)


if __name__ == "__main__":
    main(sys.argv)
