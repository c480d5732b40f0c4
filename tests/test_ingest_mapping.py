"""Sentry events map onto the classic columns; the rest is kept in ``data``."""

import datetime as dt
import logging

import pytest
from django.test import override_settings

from sentry import pipeline
from sentry.grouping import get_checksum
from sentry.ingest.mapping import (
    frame_label,
    interpolate,
    map_event,
    map_remote_event,
    parse_timestamp,
)
from tests.ingest_factories import exception_event, frame, message_event


class Key:
    label = "shop"


def mapped(payload, **kwargs):
    return map_event(payload, key=Key(), **kwargs)


def test_an_exception_is_titled_by_the_exception_reported_last():
    event = mapped(exception_event())

    assert event["class_name"] == "ValueError"
    assert event["message"] == "ValueError: could not compute ratio"


def test_the_traceback_text_reads_like_pythons():
    event = mapped(exception_event())

    assert event["traceback"] == (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/orders.py", line 26, in handler\n'
        "    divide(len(items), 0)\n"
        '  File "/srv/app/orders.py", line 20, in divide\n'
        "    ratio = a / b\n"
        "ZeroDivisionError: division by zero\n"
        "\n"
        # The SDK did not say how the two are linked.
        "The following exception is linked to the one above:\n"
        "\n"
        "Traceback (most recent call last):\n"
        '  File "/srv/app/orders.py", line 31, in <module>\n'
        "    handler()\n"
        '  File "/srv/app/orders.py", line 28, in handler\n'
        '    raise ValueError("could not compute ratio") from e\n'
        "ValueError: could not compute ratio"
    )


def test_a_cause_is_named_as_such_when_the_sdk_says_so():
    payload = exception_event()
    payload["exception"]["values"][0]["mechanism"]["source"] = "__cause__"
    payload["exception"]["values"][1]["module"] = "shop.errors"

    text = mapped(payload)["traceback"]

    assert "The above exception was the direct cause" in text
    assert text.endswith("shop.errors.ValueError: could not compute ratio")


def test_a_javascript_error_cause_is_named_a_direct_cause():
    # @sentry/node and @sentry/browser mark `new Error(..., {cause})` so.
    payload = exception_event()
    payload["exception"]["values"][0]["mechanism"]["source"] = "cause"

    text = mapped(payload)["traceback"]

    assert "The above exception was the direct cause" in text
    assert "During handling" not in text


def test_the_culprit_is_the_innermost_application_frame():
    assert mapped(exception_event())["view"] == "orders.handler"


def test_culprit_and_transaction_name_the_culprit_first():
    assert mapped(exception_event(culprit="shop.views.pay"))["view"] == (
        "shop.views.pay"
    )
    route = "/orders/{order_id}/checkout/"
    assert mapped(exception_event(transaction=route))["view"] == route


def test_library_frames_name_the_culprit_only_when_no_frame_is_the_apps():
    payload = exception_event()
    for value in payload["exception"]["values"]:
        for item in value["stacktrace"]["frames"]:
            item["in_app"] = False
    payload["exception"]["values"][-1]["stacktrace"]["frames"].append(
        {"module": "lib", "function": "call"}
    )

    assert mapped(payload)["view"] == "lib.call"


def test_a_message_keeps_its_text_and_level():
    event = mapped(message_event())

    assert event["message"] == "Payment gateway timed out"
    assert event["class_name"] is None
    assert event["traceback"] is None
    assert pipeline.normalize_level(event["level"]) == logging.WARNING


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("fatal", 50),
        ("error", 40),
        ("warning", 30),
        ("warn", 30),
        ("info", 20),
        ("log", 20),
        ("debug", 10),
        ("critical", 50),
        (40, 40),
        (50, 50),
        (None, 40),
        ("nonsense", 40),
    ],
)
def test_levels_are_names_or_raven_integers(level, expected):
    event = pipeline.prepare(mapped(message_event(level=level)))
    assert event["level"] == expected


def test_a_logentry_is_formatted_and_groups_by_its_template():
    first = message_event(
        logger="myapp.orders",
        logentry={"message": "order %s failed", "params": [1234]},
    )
    del first["message"]
    second = dict(first, event_id=None, logentry={"message": "order %s failed"})
    second["logentry"]["params"] = [99]

    one = pipeline.prepare(mapped(first))
    two = pipeline.prepare(mapped(second))

    assert one["message"] == "order 1234 failed"
    assert two["message"] == "order 99 failed"
    assert one["logger"] == "myapp.orders"
    assert one["checksum"] == two["checksum"]


def test_an_sdk_formatted_logentry_is_used_as_is():
    payload = message_event(
        logentry={"message": "a %s", "formatted": "given", "params": ["b"]}
    )
    del payload["message"]

    assert mapped(payload)["message"] == "given"


@pytest.mark.parametrize(
    ("template", "params", "expected"),
    [
        ("%s and %d", ["a", 2], "a and 2"),
        ("%(name)s is %(age)d", {"name": "x", "age": 3}, "x is 3"),
        ("%(name)s", [{"name": "y"}], "y"),
        ("100%% sure %s", [True], "100% sure true"),
        ("%999999999s", ["x"], "x"),
        ("%s %s", ["only one"], None),
        ("%(missing)s", {}, None),
    ],
)
def test_interpolation_is_printf_style_and_safe(template, params, expected):
    assert interpolate(template, params, 8192) == expected


def test_interpolation_is_bounded_however_often_a_value_is_used():
    result = interpolate("%(a)s" * 10_000, {"a": "x" * 10_000}, 8192)
    assert len(result) == 8192


def test_the_request_url_user_and_server_are_kept():
    payload = exception_event(
        request={
            "url": "https://shop.example.com/boom?token=secret&a=1",
            "method": "POST",
            "headers": [["Cookie", "sessionid=abc"], ["User-Agent", "curl"]],
            "query_string": "a=1&token=secret",
        },
        user={"ip_address": "{{auto}}", "id": 7, "plan": "gold"},
    )

    event = pipeline.prepare(mapped(payload, client_ip="203.0.113.9"))

    assert event["url"] == "https://shop.example.com/boom?token=********&a=1"
    assert event["server_name"] == "web-01"
    assert event["site"] == "shop"
    request = event["data"]["request"]
    assert request["headers"] == {"Cookie": "********", "User-Agent": "curl"}
    assert request["query_string"] == "a=1&token=********"
    assert event["data"]["user"] == {
        "id": "7",
        "ip_address": "203.0.113.9",
        "data": {"plan": "gold"},
    }


def test_environment_and_release_become_tags():
    event = mapped(exception_event())

    assert event["data"]["tags"] == {
        "tenant": "acme",
        "environment": "staging",
        "release": "myapp@1.2.3",
    }
    assert event["data"]["environment"] == "staging"


def test_tags_may_be_pairs_and_are_stringified():
    event = mapped(message_event(tags=[["n", 5], ["ok", True], ["none", None]]))
    assert event["data"]["tags"] == {"n": "5", "ok": "true"}


def test_everything_else_is_kept_in_data():
    data = pipeline.prepare(mapped(exception_event()))["data"]

    assert set(data) >= {
        "exception",
        "tags",
        "user",
        "contexts",
        "breadcrumbs",
        "release",
        "environment",
        "sdk",
        "platform",
        "extra",
    }
    last = data["exception"]["values"][-1]
    assert last["stacktrace"]["frames"][-1]["context_line"].strip().startswith("raise")
    inner = data["exception"]["values"][0]["stacktrace"]["frames"][-1]
    assert inner["vars"] == {"a": "3", "b": "0"}
    assert inner["pre_context"] == ["    try:"]
    assert data["breadcrumbs"]["values"][0]["type"] == "default"


def test_bulky_sdk_data_is_not_kept():
    payload = message_event(modules={"django": "5.2"}, debug_meta={}, _meta={})
    assert not {"modules", "debug_meta", "_meta"} & set(mapped(payload)["data"])


def test_the_fingerprint_is_passed_on_as_strings():
    event = mapped(message_event(fingerprint=["{{ default }}", 5, None]))
    assert event["fingerprint"] == ["{{ default }}", "5"]


def test_legacy_interface_names_are_understood():
    payload = {
        "message": "ZeroDivisionError: division by zero",
        "sentry.interfaces.Exception": {
            "values": [{"type": "ZeroDivisionError", "value": "division by zero"}]
        },
        "sentry.interfaces.Stacktrace": {"frames": [frame("f", 1, "1 / 0")]},
        "sentry.interfaces.Http": {"url": "http://example.com/"},
        "sentry.interfaces.User": {"id": "1"},
    }

    event = mapped(payload)

    assert event["class_name"] == "ZeroDivisionError"
    assert event["url"] == "http://example.com/"
    frames = event["data"]["exception"]["values"][0]["stacktrace"]["frames"]
    assert frames[0]["function"] == "f"
    assert event["data"]["user"] == {"id": "1"}


def test_a_bare_list_or_single_exception_object_is_understood():
    bare = mapped({"exception": [{"type": "KeyError", "value": "'x'"}]})
    single = mapped({"exception": {"type": "KeyError", "value": "'y'"}})

    assert bare["message"] == "KeyError: 'x'"
    assert single["message"] == "KeyError: 'y'"


def test_an_event_id_is_normalised_or_generated():
    dashed = "64F788BA-8A8B-408E-A4E8-2D6AA44B7A3F"

    assert mapped({"event_id": dashed})["message_id"] == (
        "64f788ba8a8b408ea4e82d6aa44b7a3f"
    )
    assert len(pipeline.normalize_message_id(mapped({})["message_id"])) == 32


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-26T04:02:24.578828Z", dt.datetime(2026, 11, 26, 4, 2, 24, 578828)),
        ("2026-11-26T04:03:24Z", dt.datetime(2026, 11, 26, 4, 3, 24)),
        ("2011-05-02T17:41:36", dt.datetime(2011, 5, 2, 17, 41, 36)),
        (1304358096, dt.datetime(2011, 5, 2, 17, 41, 36)),
        ("1304358096.5", dt.datetime(2011, 5, 2, 17, 41, 36, 500000)),
        ("yesterday", None),
        (1e300, None),
        (True, None),
        ("inf", None),
        ("1e400", None),
        ("9" * 5000, None),
        ("١٣٠٤٣٥٨٠٩٦", None),
    ],
)
def test_timestamps_are_rfc3339_or_unix_seconds(value, expected):
    expected = expected and expected.replace(tzinfo=dt.UTC)
    assert parse_timestamp(value) == expected


def test_implausible_timestamps_become_the_time_of_arrival():
    received = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    future = mapped({"timestamp": "2026-01-01T00:05:00Z"}, received=received)
    past = mapped({"timestamp": "2025-01-01T00:00:00Z"}, received=received)
    recent = mapped({"timestamp": "2025-12-31T23:00:00Z"}, received=received)

    assert future["datetime"] == received
    assert past["datetime"] == received
    assert recent["datetime"] == received - dt.timedelta(hours=1)


def test_a_senders_clock_drift_is_corrected_with_sent_at():
    received = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)

    event = mapped(
        {"timestamp": "2026-01-01T14:00:00Z"},
        received=received,
        sent_at="2026-01-01T14:00:01Z",
    )

    assert event["datetime"] == received - dt.timedelta(seconds=1)


@override_settings(SENTRY_INGEST_SITE="central")
def test_the_site_can_be_fixed_by_a_setting():
    assert mapped(message_event())["site"] == "central"


def test_events_that_name_no_server_are_filed_under_unknown():
    assert mapped({"message": "browser"})["server_name"] == "unknown"


def test_a_remote_event_is_checked_field_by_field():
    event = map_remote_event(
        {
            "message_id": "A" * 32,
            "datetime": "2001-01-01T00:00:00+00:00",
            "level": 30,
            "message": ["not", "text"],
            "data": "not a dict",
            "view": None,
            "checksum": "c" * 32,
            "fingerprint": "one",
        }
    )

    assert event["message_id"] == "a" * 32
    assert event["level"] == 30
    assert event["message"] is None
    assert event["data"] == {}
    assert event["view"] == ""
    assert event["checksum"] == "c" * 32
    assert event["fingerprint"] == ["one"]
    # Thirty days is the oldest an event may claim to be.
    assert event["datetime"] > dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        (12.7, 12),
        (" 12 ", 12),
        ("-3", -3),
        ("²", None),
        ("١٢", None),
        ("1_000", None),
        ("9" * 30, None),
        ("9" * 5000, None),
        (float("inf"), None),
        (True, None),
    ],
)
def test_line_numbers_are_whole_numbers_in_ascii_digits(value, expected):
    from sentry.ingest.mapping import integer

    assert integer(value) == expected


def test_a_frame_without_a_module_names_its_function_and_path():
    frame = {
        "function": "pay",
        "filename": "https://shop.example:8443/static/app.js?v=3",
    }
    assert frame_label(frame) == "pay (/static/app.js)"
    ruby = {"function": "block in save", "filename": "app/models/order.rb"}
    assert frame_label(ruby) == "block in save (app/models/order.rb)"
    assert frame_label({"module": "shop.views", "function": "pay"}) == "shop.views.pay"
    assert frame_label({"module": "main", "function": "saveOrder"}) == "main.saveOrder"


@pytest.mark.parametrize(
    ("frame", "label"),
    [
        (
            {
                "function": "applyDiscount",
                "filename": "http://127.0.0.1:8000/app.bundle.js",
            },
            "applyDiscount(app.bundle.js)",
        ),
        (
            {"function": "pay", "filename": "https://shop.example/static/app.js?v=3#x"},
            "pay(static/app.js)",
        ),
        # A source map's original file, relative: as it is.
        (
            {"function": "sumPrices", "filename": "src/cart.js"},
            "sumPrices(src/cart.js)",
        ),
        (
            {"function": "pay", "filename": "C:\\shop\\server.js"},
            "pay(server.js)",
        ),
        (
            {"function": "pay", "filename": "app:///dist/main.js"},
            "pay(dist/main.js)",
        ),
        # Older SDKs put the script's URL in the module.
        (
            {
                "module": "http://127.0.0.1:8000/app.bundle.js",
                "function": "applyDiscount",
                "filename": "http://127.0.0.1:8000/app.bundle.js",
            },
            "applyDiscount(app.bundle.js)",
        ),
        (
            {
                "module": "node_send",
                "function": "checkout",
                "filename": "/srv/app/node_send.mjs",
            },
            "checkout(node_send.mjs)",
        ),
        ({"function": "?", "filename": "/srv/app/index.js"}, "index.js"),
        ({"function": "pay"}, "pay"),
    ],
)
def test_javascript_frames_read_as_javascripts_tools_show_them(frame, label):
    assert frame_label(frame, "javascript") == label
    assert frame_label({**frame, "platform": "node"}) == label


def test_a_url_is_never_taken_for_a_module():
    url = "http://127.0.0.1:8000/app.js"
    frame = {"module": url, "function": "pay", "filename": url}

    assert frame_label(frame) == "pay (/app.js)"


def test_without_application_frames_the_innermost_not_a_librarys_is_the_culprit():
    # sentry-ruby marks every frame a library's when the app is not in one
    # of the folders it expects.
    frames = [
        {"function": "<main>", "filename": "worker.rb", "in_app": False},
        {"function": "load_config", "filename": "worker.rb", "in_app": False},
        {
            "function": "fetch",
            "filename": "/usr/share/rubygems-integration/all/gems/x/lib/x.rb",
            "in_app": False,
        },
    ]
    payload = {
        "platform": "ruby",
        "exception": {"values": [{"type": "E", "stacktrace": {"frames": frames}}]},
    }

    assert mapped(payload)["view"] == "load_config (worker.rb)"
    # Only libraries: the innermost still names the culprit.
    payload["exception"]["values"][0]["stacktrace"]["frames"] = frames[2:]
    assert (
        mapped(payload)["view"]
        == "fetch (/usr/share/rubygems-integration/all/gems/x/lib/x.rb)"
    )


def test_a_module_the_type_carries_is_not_repeated_in_the_traceback():
    payload = {
        "exception": {
            "values": [{"type": "Acc::ConfigError", "module": "Acc", "value": "no"}]
        }
    }

    event = mapped(payload)

    assert event["traceback"] == "Acc::ConfigError: no"
    assert event["message"] == "Acc::ConfigError: no"


def test_a_message_sent_with_its_stack_is_a_message():
    frames = [{"function": "pay", "filename": "https://shop.example/app.js"}]
    payload = {
        "platform": "javascript",
        "message": "Checkout took 9 seconds",
        "level": "warning",
        "exception": {
            "values": [
                {
                    "value": "Checkout took 9 seconds",
                    "mechanism": {"type": "generic", "synthetic": True},
                    "stacktrace": {"frames": frames},
                }
            ]
        },
    }

    event = mapped(payload)

    assert (event["message"], event["class_name"], event["traceback"]) == (
        "Checkout took 9 seconds",
        None,
        None,
    )
    assert "exception" not in event["data"]
    assert event["data"]["stacktrace"]["frames"][0]["function"] == "pay"
    # Without the "synthetic" mark, an exception without a type stays one.
    del payload["exception"]["values"][0]["mechanism"]["synthetic"]
    assert mapped(payload)["traceback"] == "Traceback (most recent call last):\n" + (
        '  File "https://shop.example/app.js", in pay\nError: Checkout took 9 seconds'
    )


def test_an_sdk_that_names_no_logger_gets_none_made_up():
    event = pipeline.prepare(mapped(exception_event()))

    assert event["logger"] == ""
    assert pipeline.prepare(mapped(message_event(logger="shop")))["logger"] == "shop"


def test_events_that_name_no_logger_outside_the_ingest_keep_the_classic_root():
    assert pipeline.prepare({"message": "x"})["logger"] == "root"
    assert pipeline.prepare({"message": "x", "logger": None})["logger"] == "root"


def test_a_script_served_from_two_hosts_is_one_group():
    def event(url):
        values = [
            {
                "type": "TypeError",
                "stacktrace": {
                    "frames": [
                        {"function": "pay", "filename": url, "context_line": "a.b()"}
                    ]
                },
            }
        ]
        return {"data": {"exception": {"values": values}}, "message": "x"}

    assert get_checksum(event("https://a.example/app.js?v=1")) == get_checksum(
        event("http://b.example:8000/app.js#x")
    )
    assert get_checksum(event("https://a.example/app.js")) != get_checksum(
        event("https://a.example/other.js")
    )
