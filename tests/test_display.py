"""Laying stored event data out for the pages, whatever shape it comes in."""

import datetime as dt

import pytest
from django.urls import reverse

from sentry.display import (
    CAUSE_LINE,
    CONTEXT_LINE,
    LINKED_LINE,
    Event,
    as_pairs,
    format_sdk_text,
    format_timestamp,
    format_value,
    get_exceptions,
    safe_url,
)
from sentry.models import Message
from tests.complexity import assert_linear
from tests.dashboard_factories import (
    hostile_event_data,
    make_group,
    make_message,
    sdk_event_data,
    staff_client,
)


def message_with(data, traceback=None, message="boom"):
    return Message(
        message_id="a" * 32,
        message=message,
        traceback=traceback,
        data=data,
        datetime=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        server_name="web-1",
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/",
        "https://example.com/a?b=<c>",
        "HTTPS://EXAMPLE.COM/",
    ],
)
def test_http_urls_are_safe_to_link(url):
    assert safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "//evil.example/",
        "/relative/path",
        "http:/no-host",
        "https://exa mple.com/",
        "http://[::1",
        None,
        42,
        "",
    ],
)
def test_anything_else_is_never_linked(url):
    assert safe_url(url) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain", "plain"),
        (None, "None"),
        (True, "True"),
        (3, "3"),
        (1.5, "1.5"),
        ({"a": [1, 2]}, "{'a': [1, 2]}"),
    ],
)
def test_values_are_shown_as_text(value, text):
    assert format_value(value) == text


def test_huge_values_are_cut():
    assert len(format_value("x" * 50_000)) < 10_100


def test_pairs_come_from_dicts_or_lists_of_pairs():
    assert as_pairs({"a": 1}) == [("a", "1")]
    assert as_pairs([["Host", "x"], ("b", None)]) == [("Host", "x"), ("b", "None")]
    assert as_pairs("a=1; b=2") is None
    assert as_pairs([1, 2, 3]) is None


def test_chain_links_come_from_the_mechanism_source():
    data = {
        "exception": {
            "values": [
                {"type": "A", "mechanism": {"source": "__cause__"}},
                {"type": "B", "mechanism": {"source": "__context__"}},
                {"type": "C"},
            ]
        }
    }

    entries = get_exceptions(data)

    assert [e.link for e in entries] == [CAUSE_LINE, CONTEXT_LINE, None]


def test_a_javascript_error_cause_links_as_a_direct_cause():
    data = {
        "exception": {
            "values": [{"type": "TypeError", "mechanism": {"source": "cause"}}, {}]
        }
    }

    assert [e.link for e in get_exceptions(data)] == [CAUSE_LINE, None]


def test_chain_links_come_from_the_plain_traceback_otherwise():
    traceback = (
        f"Traceback...\nA\n\n{CONTEXT_LINE}\n\nTraceback...\nB\n\n{CAUSE_LINE}\n\nC"
    )
    data = {"exception": {"values": [{"type": "A"}, {"type": "B"}, {"type": "C"}]}}

    entries = get_exceptions(data, traceback)

    assert [e.link for e in entries] == [CONTEXT_LINE, CAUSE_LINE, None]


def test_unknown_chain_links_are_said_neutrally():
    data = {"exception": {"values": [{"type": "A"}, {"type": "B"}]}}

    assert get_exceptions(data, "a traceback without the lines")[0].link == LINKED_LINE


def test_the_traceback_text_of_an_sdk_event_does_not_say_how_its_chain_links():
    # Made here from what the SDK sent (older versions wrote Python's
    # "During handling" where the SDK said nothing): only the mechanism counts.
    traceback = f"Traceback...\nA\n\n{CONTEXT_LINE}\n\nTraceback...\nB"
    data = {
        "exception": {"values": [{"type": "A"}, {"type": "B"}]},
        "sdk": {"name": "sentry.ruby", "version": "5.3.0"},
    }

    assert get_exceptions(data, traceback)[0].link == LINKED_LINE


@pytest.mark.parametrize(
    ("module", "kind", "label"),
    [
        ("Acc", "Acc::ConfigError", "Acc::ConfigError"),
        ("shop.errors", "shop.errors.PaymentError", "shop.errors.PaymentError"),
        ("shop.errors", "PaymentError", "shop.errors.PaymentError"),
        ("builtins", "ValueError", "ValueError"),
        (None, "TypeError", "TypeError"),
        ("Acc", "Acc", "Acc"),
        ("Acc", "AccError", "Acc.AccError"),
    ],
)
def test_an_exception_type_is_labelled_with_its_module_once(module, kind, label):
    data = {"exception": {"values": [{"type": kind, "module": module}]}}

    assert get_exceptions(data)[0].label == label


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("'card_declined'", "'card_declined'"),
        ({"code": "'card_declined'"}, "{'code': 'card_declined'}"),
        (["1200", "'EUR'", "None"], "[1200, 'EUR', None]"),
        ({"a": {"b": ["'x'"]}, "n": 3}, "{'a': {'b': ['x']}, 'n': 3}"),
        ({}, "{}"),
        ([], "[]"),
        # A key is a name: quoted once, as Python prints it.
        ({"it's": "1"}, '{"it\'s": 1}'),
    ],
)
def test_sdk_text_is_shown_once_not_quoted_again(sent, shown):
    assert format_sdk_text(sent) == shown


def test_sdk_text_is_cut_and_bounded_in_depth():
    deep = []
    inner = deep
    for _ in range(100):
        inner.append([])
        inner = inner[0]

    assert format_sdk_text(deep) == "[" * 20 + "..." + "]" * 20
    huge = format_sdk_text({str(n): "x" * 100 for n in range(1_000)})
    assert len(huge) == 10_003 and huge.endswith("...")


def test_only_sentry_pythons_variables_are_read_as_its_text():
    def variables(sdk):
        frame = {"vars": {"code": "'card_declined'", "order": {"id": "17"}}}
        data = {
            "exception": {"values": [{"type": "E", "stacktrace": {"frames": [frame]}}]}
        }
        if sdk:
            data["sdk"] = {"name": sdk}
        return Event(message_with(data)).exceptions[0].frames[0].vars

    assert variables("sentry.python.django") == [
        ("code", "'card_declined'"),
        ("order", "{'id': 17}"),
    ]
    # This site's client and other SDKs send values: a text is quoted.
    for sdk in (None, "sentry.javascript.node"):
        assert variables(sdk) == [
            ("code", "'card_declined'"),
            ("order", "{'id': '17'}"),
        ]


def test_the_innermost_open_frame_shows_its_variables():
    frames = [
        {"in_app": True, "vars": {"a": 1}},
        {"in_app": True, "vars": {"b": 2}},
        {"in_app": False, "vars": {"c": 3}},
    ]
    data = {"exception": {"values": [{"type": "E", "stacktrace": {"frames": frames}}]}}

    shown = get_exceptions(data)[0].frames

    assert [(f.open, f.vars_open) for f in shown] == [
        (True, False),
        (True, True),
        (False, False),
    ]


def test_a_message_sent_with_its_stack_is_shown_as_a_message():
    # @sentry/browser's captureMessage: an exception without a type.
    frames = [{"function": "pay", "filename": "https://shop.example/app.js"}]
    value = {
        "value": "Checkout took 9 seconds",
        "mechanism": {"type": "generic", "synthetic": True},
        "stacktrace": {"frames": frames},
    }
    event = Event(message_with({"exception": {"values": [value]}}))

    assert event.exceptions == []
    assert [frame.function for frame in event.stack] == ["pay"]


def test_frames_number_their_source_lines():
    data = {
        "exception": {
            "values": [
                {
                    "type": "E",
                    "stacktrace": {
                        "frames": [
                            {
                                "lineno": 10,
                                "pre_context": ["a", "b"],
                                "context_line": "c",
                                "post_context": ["d"],
                                "in_app": True,
                            }
                        ]
                    },
                }
            ]
        }
    }

    [frame] = get_exceptions(data)[0].frames

    assert frame.context == [
        (8, "a", False),
        (9, "b", False),
        (10, "c", True),
        (11, "d", False),
    ]
    assert frame.open is True


def test_without_application_frames_the_failing_frame_opens():
    frames = [{"in_app": False, "lineno": n} for n in (1, 2, 3)]
    data = {"exception": {"values": [{"type": "E", "stacktrace": {"frames": frames}}]}}

    entry = get_exceptions(data)[0]

    assert [f.open for f in entry.frames] == [False, False, True]


def test_a_stack_without_an_exception_is_read_from_threads():
    data = {
        "threads": {
            "values": [
                {"id": 1, "stacktrace": {"frames": [{"function": "idle"}]}},
                {
                    "id": 2,
                    "current": True,
                    "stacktrace": {"frames": [{"function": "main"}]},
                },
            ]
        }
    }

    event = Event(message_with(data))

    assert [f.function for f in event.stack] == ["main"]
    assert event.show_message is False


def test_breadcrumb_timestamps_are_readable():
    assert format_timestamp(0) == "1970-01-01 00:00:00.000"
    assert format_timestamp("2026-01-01T00:00:00Z") == "2026-01-01T00:00:00Z"
    assert format_timestamp(1e300) == "1e+300"
    assert format_timestamp(None) is None


def test_an_sdk_event_is_laid_out_in_full():
    event = Event(message_with(sdk_event_data()))

    assert [e.type for e in event.exceptions] == ["ZeroDivisionError", "ValueError"]
    assert event.exceptions[1].handled is False
    assert event.request.method == "POST"
    assert event.request.link == "https://shop.example.com/orders/?page=2"
    assert ("Headers", [("Host", "shop.example.com"), ("User-Agent", "curl/8.0")]) in (
        event.request.tables
    )
    assert ("Cookies", [("", "theme=dark")]) in event.request.tables
    assert event.request.body_pairs == [("quantity", "3")]
    assert ("tenant", "acme") in event.tags
    assert [name for name, _ in event.contexts] == ["runtime", "order"]
    assert [c.level for c in event.breadcrumbs] == ["info", "warning"]
    assert event.breadcrumbs[1].data == [("sku", "SKU-1")]
    info = dict(event.info)
    assert info["Release"] == "myapp@1.2.3"
    assert info["Environment"] == "staging"
    assert info["SDK"] == "sentry.python 2.75.0"
    assert info["Platform"] == "python"
    assert "orders" in info["Fingerprint"]
    assert '"release": "myapp@1.2.3"' in event.raw


def test_keys_the_page_does_not_know_are_shown_with_the_extra_data():
    event = Event(message_with({"extra": {"a": 1}, "modules": {"django": "5.2"}}))

    assert event.extra == [("a", "1"), ("modules", "{'django': '5.2'}")]


ODD_VALUES = [None, 0, 1.5, True, "text", [], {}, [1, "x"], {"x": None}, [[1]], [{}]]


@pytest.mark.parametrize("odd", ODD_VALUES)
@pytest.mark.parametrize(
    "key",
    [
        "exception",
        "threads",
        "stacktrace",
        "request",
        "user",
        "tags",
        "contexts",
        "breadcrumbs",
        "extra",
        "logentry",
        "release",
        "sdk",
        "fingerprint",
    ],
)
def test_odd_types_anywhere_never_break_the_layout(key, odd):
    Event(message_with({key: odd})).raw


@pytest.mark.parametrize("odd", ODD_VALUES)
def test_odd_types_inside_exceptions_and_frames_never_break_the_layout(odd):
    data = {
        "exception": {
            "values": [
                odd,
                {"type": odd, "value": odd, "mechanism": odd, "stacktrace": odd},
                {"stacktrace": {"frames": [odd, dict.fromkeys(FRAME_KEYS, odd)]}},
            ]
        },
        "request": dict.fromkeys(("url", "method", "headers", "data", "GET"), odd),
        "breadcrumbs": {"values": [odd, dict.fromkeys(CRUMB_KEYS, odd)]},
        "contexts": {"c": odd},
    }

    Event(message_with(data, traceback=odd if isinstance(odd, str) else None))


FRAME_KEYS = (
    "filename",
    "abs_path",
    "module",
    "function",
    "lineno",
    "pre_context",
    "context_line",
    "post_context",
    "in_app",
    "vars",
)
CRUMB_KEYS = ("timestamp", "type", "category", "level", "message", "data")


def test_data_that_is_not_a_dict_shows_an_empty_event():
    event = Event(message_with(["not", "a", "dict"], traceback="plain text"))

    assert event.exceptions == []
    assert event.traceback == "plain text"


def test_hostile_data_is_laid_out_as_text():
    event = Event(message_with(hostile_event_data()))

    assert event.request.link is None
    assert event.exceptions[0].frames[0].vars[0][0].startswith("<script>")


# Rendering is linear in the event: the group and occurrence pages of an
# event with n frames, an n-character message or n breadcrumbs. The inputs
# are the worst found for each step: text that escaping grows ("<&"), one
# line with no break, n lines, chained exceptions' link lines in the text.


def frame(index):
    return {
        "filename": f"app/module_{index}.py",
        "function": f"handler_{index}",
        "lineno": index + 10,
        "in_app": index % 2 == 0,
        "context_line": "    return <compute>(&value)",
        "pre_context": ["def f():", "    x = '<' * 3"],
        "post_context": ["# end"],
        "vars": {"request": "<WSGIRequest: GET '/'>", "n": index},
    }


def event_with_frames(n):
    return {
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "bad <input> & more",
                    "stacktrace": {"frames": [frame(i) for i in range(n)]},
                }
            ]
        }
    }


def event_with_breadcrumbs(n):
    return {
        "breadcrumbs": {
            "values": [
                {
                    "timestamp": 1767225600 + i,
                    "category": "query",
                    "message": f"SELECT '<{i}>' & 1",
                    "data": {"rows": i, "sql": "<b>"},
                }
                for i in range(n)
            ]
        }
    }


LONG_MESSAGES = {
    "one line of markup": lambda n: "<&" * (n // 2),
    "n lines": lambda n: "line\n" * (n // 5),
    "chain lines": lambda n: (CAUSE_LINE + "\n") * (n // len(CAUSE_LINE)),
}


@pytest.fixture
def staff():
    return staff_client("display-staff")


def pages_of(group, message):
    return [
        reverse("sentry:group", args=[group.pk]),
        reverse("sentry:message", args=[group.pk, message.message_id]),
    ]


def render_pages(staff):
    def run(urls):
        for url in urls:
            response = staff.get(url)
            assert response.status_code == 200

    return run


@pytest.mark.django_db
def test_pages_render_in_time_linear_in_the_number_of_frames(staff):
    def make(n):
        group = make_group(f"frames {n}")
        return pages_of(group, make_message(group, data=event_with_frames(n)))

    assert_linear(render_pages(staff), make, 50, max_n=2_000)


@pytest.mark.django_db
def test_pages_render_in_time_linear_in_the_number_of_breadcrumbs(staff):
    def make(n):
        group = make_group(f"crumbs {n}")
        return pages_of(group, make_message(group, data=event_with_breadcrumbs(n)))

    assert_linear(render_pages(staff), make, 100, max_n=5_000)


@pytest.mark.django_db
@pytest.mark.parametrize("shape", LONG_MESSAGES)
def test_pages_render_in_time_linear_in_the_length_of_the_message(staff, shape):
    def make(n):
        text = LONG_MESSAGES[shape](n)
        group = make_group(text)
        message = make_message(group, message=text, traceback=text)
        return pages_of(group, message)

    assert_linear(render_pages(staff), make, 20_000, max_n=400_000)
