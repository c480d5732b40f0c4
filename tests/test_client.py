"""The client API: what gets recorded, and what never happens to the caller."""

import logging
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory, override_settings

from sentry.client import get_client
from sentry.client.base import LoggingSentryClient, SentryClient
from sentry.client.models import client
from sentry.models import GroupedMessage, Message
from tests.factories import exc_info_of, fail_with, raise_and_capture

pytestmark = pytest.mark.django_db

HEX32 = re.compile(r"^[0-9a-f]{32}$")


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no str for you")


def test_create_from_exception_returns_the_stored_message_id():
    message_id = raise_and_capture(ValueError("bad value"))

    assert HEX32.match(message_id)
    message = Message.objects.get(message_id=message_id)
    assert message.class_name == "ValueError"
    assert message.message == "bad value"
    assert message.level == logging.ERROR
    assert "ValueError: bad value" in message.traceback
    assert message.server_name == "test-server"
    assert message.group.times_seen == 1


def test_create_from_exception_accepts_an_explicit_exc_info_url_and_view():
    message_id = client.create_from_exception(
        exc_info=exc_info_of(KeyError("sku")), url="http://shop/cart", view="shop.cart"
    )

    message = Message.objects.get(message_id=message_id)
    assert message.class_name == "KeyError"
    assert message.url == "http://shop/cart"
    assert message.view == "shop.cart"
    assert message.group.view == "shop.cart"


def test_create_from_exception_outside_except_records_nothing():
    assert client.create_from_exception() is None
    assert not Message.objects.exists()


def test_frames_hold_source_context_and_local_variables():
    def compute(order):
        items = [1, 2, 3]
        return sum(items) / order["count"]

    try:
        compute({"count": 0})
    except ZeroDivisionError:
        message_id = client.create_from_exception()

    data = Message.objects.get(message_id=message_id).data
    frames = data["exception"]["values"][-1]["stacktrace"]["frames"]
    innermost = frames[-1]
    assert innermost["function"].endswith("compute")
    assert innermost["module"] == "tests.test_client"
    assert innermost["filename"] == "tests/test_client.py"
    assert innermost["context_line"].strip() == 'return sum(items) / order["count"]'
    assert innermost["pre_context"][-1].strip() == "items = [1, 2, 3]"
    assert innermost["post_context"]
    assert innermost["vars"]["items"] == [1, 2, 3]
    assert innermost["vars"]["order"] == {"count": 0}
    assert isinstance(innermost["lineno"], int)


def test_exception_chains_are_kept_oldest_first():
    try:
        try:
            {}["missing"]
        except KeyError as exc:
            raise ValueError("could not price order") from exc
    except ValueError:
        message_id = client.create_from_exception()

    message = Message.objects.get(message_id=message_id)
    values = message.data["exception"]["values"]
    assert [v["type"] for v in values] == ["KeyError", "ValueError"]
    assert message.class_name == "ValueError"
    assert "The above exception was the direct cause" in message.traceback


def test_implicit_exception_context_is_kept():
    try:
        try:
            1 / 0
        except ZeroDivisionError:
            raise RuntimeError("while handling")
    except RuntimeError:
        message_id = client.create_from_exception()

    values = Message.objects.get(message_id=message_id).data["exception"]["values"]
    assert [v["type"] for v in values] == ["ZeroDivisionError", "RuntimeError"]


def test_exception_groups_keep_their_members():
    group = ExceptionGroup("several", [ValueError("one"), TypeError("two")])
    message_id = raise_and_capture(group)

    message = Message.objects.get(message_id=message_id)
    values = message.data["exception"]["values"]
    types = [v["type"] for v in values]
    assert types[0] == "ExceptionGroup"
    assert set(types[1:]) == {"ValueError", "TypeError"}
    assert values[0]["mechanism"]["is_exception_group"] is True
    assert all(v["mechanism"]["parent_id"] == 0 for v in values[1:])


def test_an_exception_whose_str_raises_is_still_recorded():
    message_id = raise_and_capture(Unprintable())

    message = Message.objects.get(message_id=message_id)
    assert message.class_name == "Unprintable"
    assert "unprintable" in message.message


@override_settings(SENTRY_INCLUDE_PATHS=["tests"])
def test_the_culprit_is_the_innermost_application_frame():
    message_id = raise_and_capture(ValueError("x"))

    assert (
        Message.objects.get(message_id=message_id).view == "tests.factories.fail_with"
    )


@override_settings(SENTRY_INCLUDE_PATHS=["tests.test_client"])
def test_include_paths_choose_which_frames_may_be_the_culprit():
    def checkout():
        fail_with(ValueError("x"))

    try:
        checkout()
    except ValueError:
        message_id = client.create_from_exception()

    # fail_with (tests.factories) is not in the include paths; its caller is.
    assert Message.objects.get(message_id=message_id).view == (
        "tests.test_client.test_include_paths_choose_which_frames_may_be_the_culprit"
        ".<locals>.checkout"
    )


@override_settings(
    SENTRY_INCLUDE_PATHS=["tests"], SENTRY_EXCLUDE_PATHS=["tests.factories"]
)
def test_exclude_paths_skip_frames_for_the_culprit():
    def caller():
        fail_with(ValueError("x"))

    try:
        caller()
    except ValueError:
        message_id = client.create_from_exception()

    assert Message.objects.get(message_id=message_id).view == (
        "tests.test_client.test_exclude_paths_skip_frames_for_the_culprit.<locals>.caller"
    )


def test_without_application_frames_the_culprit_is_the_innermost_project_frame():
    # tests.factories is no installed app, but it is not a library either.
    message_id = raise_and_capture(ValueError("x"))

    assert (
        Message.objects.get(message_id=message_id).view == "tests.factories.fail_with"
    )


def test_library_frames_are_never_the_culprit():
    import json

    try:
        json.loads("{not json")
    except ValueError:
        message_id = client.create_from_exception()

    view = Message.objects.get(message_id=message_id).view
    assert view == ("tests.test_client.test_library_frames_are_never_the_culprit")


def test_create_from_text_defaults_to_error_and_returns_the_id():
    message_id = client.create_from_text("Payment gateway timed out")

    message = Message.objects.get(message_id=message_id)
    assert message.level == logging.ERROR
    assert message.class_name is None
    assert message.traceback is None
    assert message.logger == "root"


def test_create_from_text_accepts_level_url_and_extra_data():
    message_id = client.create_from_text(
        "Cache miss storm",
        level=logging.WARNING,
        url="http://shop/",
        data={"ratio": 0.93},
        logger="cache",
    )

    message = Message.objects.get(message_id=message_id)
    assert message.level == logging.WARNING
    assert message.url == "http://shop/"
    assert message.logger == "cache"
    assert message.data["extra"] == {"ratio": 0.93}


def test_create_from_record_uses_the_record_fields():
    logger = logging.getLogger("shop.orders")
    record = logger.makeRecord(
        "shop.orders", logging.WARNING, __file__, 1, "order %s failed", (42,), None
    )

    message_id = client.create_from_record(record)

    message = Message.objects.get(message_id=message_id)
    assert message.message == "order 42 failed"
    assert message.logger == "shop.orders"
    assert message.level == logging.WARNING
    assert message.data["logentry"] == {"message": "order %s failed", "params": [42]}


def test_create_from_record_with_badly_formatted_arguments_still_records():
    record = logging.LogRecord(
        "shop", logging.ERROR, __file__, 1, "%d items", ("x",), None
    )

    message_id = client.create_from_record(record)

    assert "%d items" in Message.objects.get(message_id=message_id).message


def test_records_of_the_sentry_loggers_are_not_recorded():
    record = logging.LogRecord(
        "sentry.errors", logging.ERROR, __file__, 1, "x", (), None
    )

    assert client.create_from_record(record) is None
    assert not Message.objects.exists()


@pytest.mark.parametrize("exc", [Http404("nope"), PermissionDenied("no")])
def test_http404_and_permission_denied_are_not_errors(exc):
    assert raise_and_capture(exc) is None
    assert not Message.objects.exists()


def test_skip_sentry_false_on_the_instance_is_recorded():
    exc = ValueError("recorded")
    exc.skip_sentry = False
    assert raise_and_capture(exc) is not None


def test_get_client_returns_the_configured_class():
    assert type(get_client()) is SentryClient


@override_settings(SENTRY_CLIENT="sentry.client.base.LoggingSentryClient")
def test_the_logging_client_writes_to_a_logger_and_stores_nothing(caplog):
    with caplog.at_level(logging.INFO, logger="sentry.events"):
        message_id = client.create_from_text("to the log", level=logging.WARNING)

    assert isinstance(get_client(), LoggingSentryClient)
    assert HEX32.match(message_id)
    assert not Message.objects.exists()
    [record] = [r for r in caplog.records if r.name == "sentry.events"]
    assert record.levelno == logging.WARNING
    assert message_id in record.getMessage() and "to the log" in record.getMessage()


@override_settings(SENTRY_CLIENT="tests.test_client.ExplodingClient")
def test_a_client_that_fails_returns_none_and_logs_the_event(sentry_errors):
    message_id = client.create_from_text("the event text")

    assert message_id is None
    [record] = sentry_errors
    assert "the event text" in record.getMessage()
    assert record.exc_info[0] is RuntimeError


class ExplodingClient(SentryClient):
    def send(self, event):
        raise RuntimeError("storage exploded")


def test_request_data_is_captured_with_the_request_keyword():
    request = RequestFactory().post(
        "/cart/checkout/?coupon=SPRING",
        {"sku": "A-1", "password": "hunter2"},
        HTTP_USER_AGENT="pytest-browser",
    )
    request.COOKIES["theme"] = "dark"
    request.COOKIES["sessionid"] = "abc123"

    message_id = raise_and_capture(ValueError("checkout"), request=request)

    message = Message.objects.get(message_id=message_id)
    req = message.data["request"]
    assert message.url == "http://testserver/cart/checkout/?coupon=SPRING"
    assert req["method"] == "POST"
    assert req["GET"] == {"coupon": "SPRING"}
    assert req["POST"]["sku"] == "A-1"
    assert req["POST"]["password"] == "********"
    assert req["headers"]["User-Agent"] == "pytest-browser"
    assert req["cookies"] == {"theme": "dark", "sessionid": "********"}


def test_the_flood_guard_does_not_apply_below_its_limit():
    ids = [client.create_from_text("same") for _ in range(5)]

    assert len(set(ids)) == 5
    assert Message.objects.count() == 5
    assert GroupedMessage.objects.get().times_seen == 5


def test_a_message_id_given_by_the_caller_is_used():
    message_id = client.create_from_text("given id", message_id="A" * 32)

    assert message_id == "a" * 32
    assert Message.objects.filter(message_id="a" * 32).exists()


def test_the_same_message_id_twice_is_stored_and_counted_once():
    first = client.create_from_text("dedupe", message_id="b" * 32)
    second = client.create_from_text("dedupe", message_id="b" * 32)

    assert first == second == "b" * 32
    assert Message.objects.count() == 1
    assert GroupedMessage.objects.get().times_seen == 1


@override_settings(SENTRY_SITE="shop.example.com")
def test_site_comes_from_the_setting():
    message_id = client.create_from_text("sited")

    assert Message.objects.get(message_id=message_id).site == "shop.example.com"


def test_tags_and_explicit_server_name_are_kept():
    message_id = client.create_from_text(
        "tagged", tags={"tenant": "acme", "n": 5}, server_name="web-07"
    )

    message = Message.objects.get(message_id=message_id)
    assert message.server_name == "web-07"
    assert message.data["tags"] == {"tenant": "acme", "n": "5"}


def test_installed_packages_are_not_application_code():
    from sentry.utils.stacks import get_include_paths

    paths = get_include_paths()
    assert "tests.testapp" in paths
    assert "django.contrib.auth" not in paths
    assert "django.contrib.admin" not in paths


def test_a_caught_exception_is_marked_handled():
    message_id = raise_and_capture(ValueError("caught"))

    values = Message.objects.get(message_id=message_id).data["exception"]["values"]
    assert values[-1]["mechanism"] == {"type": "generic", "handled": True}


def test_a_frame_with_many_variables_says_how_many_were_left_out():
    names = {f"v{n}": n for n in range(80)}
    exec(  # a function with 80 local variables
        "def many():\n"
        + "".join(f"    v{n} = {n}\n" for n in range(80))
        + "    raise ValueError('many')\n",
        names,
    )
    try:
        names["many"]()
    except ValueError:
        message_id = client.create_from_exception()

    frames = Message.objects.get(message_id=message_id).data["exception"]["values"][-1][
        "stacktrace"
    ]["frames"]
    assert frames[-1]["vars"]["..."] == "(30 more items)"
