"""The logging handler, configured the way a project configures it."""

import logging
import logging.config

import pytest
from django.test import RequestFactory

from sentry.client.handlers import SentryHandler
from sentry.models import GroupedMessage, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_logger():
    """The ``shop`` logger wired to SentryHandler through dictConfig."""
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {
                "sentry": {
                    "level": "WARNING",
                    "class": "sentry.client.handlers.SentryHandler",
                }
            },
            "loggers": {
                "shop": {"handlers": ["sentry"], "level": "INFO", "propagate": False}
            },
        }
    )
    logger = logging.getLogger("shop")
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.propagate = True


def test_dictconfig_builds_the_handler(shop_logger):
    assert any(isinstance(h, SentryHandler) for h in shop_logger.handlers)


def test_a_logged_error_is_recorded(shop_logger):
    shop_logger.error("order %s failed", 1234)

    message = Message.objects.get()
    assert message.message == "order 1234 failed"
    assert message.logger == "shop"
    assert message.level == logging.ERROR


def test_records_below_the_handler_level_are_ignored(shop_logger):
    shop_logger.info("all good")

    assert not Message.objects.exists()


def test_one_template_is_one_group_whatever_the_arguments(shop_logger):
    for order in (1, 2, 3):
        shop_logger.error("order %s failed", order)
    shop_logger.error("payment %s declined", 9)

    assert GroupedMessage.objects.count() == 2
    group = GroupedMessage.objects.get(message="order 1 failed")
    assert group.times_seen == 3


def test_exc_info_records_the_exception(shop_logger):
    try:
        {}["sku"]
    except KeyError:
        shop_logger.exception("cart lookup failed")

    message = Message.objects.get()
    assert message.class_name == "KeyError"
    assert message.message == "cart lookup failed"
    assert "KeyError: 'sku'" in message.traceback
    assert message.data["exception"]["values"][-1]["type"] == "KeyError"


def test_extra_request_url_view_and_data_are_used(shop_logger):
    request = RequestFactory().get("/cart/?item=7")

    shop_logger.warning(
        "stock low",
        extra={
            "request": request,
            "view": "shop.views.cart",
            "data": {"sku": "A-1", "left": 2},
            "order_id": 99,
        },
    )

    message = Message.objects.get()
    assert message.url == "http://testserver/cart/?item=7"
    assert message.view == "shop.views.cart"
    assert message.data["request"]["GET"] == {"item": "7"}
    assert message.data["extra"] == {"sku": "A-1", "left": 2, "order_id": 99}


def test_extra_url_is_used(shop_logger):
    shop_logger.warning("slow", extra={"url": "http://shop/slow"})

    assert Message.objects.get().url == "http://shop/slow"


def test_records_of_the_sentry_loggers_never_feed_back():
    handler = SentryHandler()
    logger = logging.getLogger("sentry.errors")
    logger.addHandler(handler)
    try:
        logger.error("failure inside sentry")
        logging.getLogger("sentry").error("also ours")
    finally:
        logger.removeHandler(handler)

    assert not Message.objects.exists()


def test_a_failing_client_does_not_recurse_through_the_handler(settings, sentry_errors):
    # The client's own failure report goes to sentry.errors; with the
    # handler attached to the root logger too, nothing loops or raises.
    settings.SENTRY_CLIENT = "tests.test_client.ExplodingClient"
    handler = SentryHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logging.getLogger("shop.any").error("first failure")
    finally:
        root.removeHandler(handler)

    assert len(sentry_errors) == 1
    assert "first failure" in sentry_errors[0].getMessage()
    assert not Message.objects.exists()


def test_a_formatter_error_in_the_arguments_does_not_escape():
    class BadStr:
        def __str__(self):
            raise RuntimeError("broken __str__")

    record = logging.LogRecord(
        "shop", logging.ERROR, __file__, 1, "value: %s", (BadStr(),), None
    )
    SentryHandler().handle(record)

    message = Message.objects.get()
    assert message.message.startswith("value: %s")


def test_ignored_loggers_and_their_children_are_left_alone(shop_logger, settings):
    settings.SENTRY_IGNORED_LOGGERS = ["shop.noisy"]

    logging.getLogger("shop.noisy").error("ignored")
    logging.getLogger("shop.noisy.deeper").error("ignored too")
    logging.getLogger("shop.noisyneighbour").error("recorded")

    assert list(Message.objects.values_list("message", flat=True)) == ["recorded"]


class LoggingClient:
    """A client that is no SentryClient, and logs while it records."""

    calls = 0

    def create_from_record(self, record):
        LoggingClient.calls += 1
        logging.getLogger("shop.inner").error("logged while recording")


def test_a_client_that_logs_while_recording_is_not_re_entered(settings, sentry_errors):
    settings.SENTRY_CLIENT = "tests.test_handlers.LoggingClient"
    LoggingClient.calls = 0
    handler = SentryHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logging.getLogger("shop.any").error("first")
    finally:
        root.removeHandler(handler)

    assert LoggingClient.calls == 1
    assert len([r for r in sentry_errors if "already capturing" in r.getMessage()]) == 1
