"""
Events recorded from each real SDK are shown as they were sent.

The payloads in ``tests/payloads/`` are what sentry-python, @sentry/browser,
@sentry/node, sentry-go and sentry-ruby posted (see its README): each is
mapped as the ingest maps it, stored, and its occurrence page, group page
and stream row are read as a user reads them.
"""

import html
import json
import re

import pytest
from django.urls import reverse

from sentry import pipeline
from sentry.ingest.mapping import map_event
from sentry.models import GroupedMessage, Message
from tests.dashboard_factories import staff_client
from tests.processes import ROOT

pytestmark = pytest.mark.django_db

PAYLOADS = ROOT / "tests" / "payloads"


class Key:
    label = "shop"


@pytest.fixture
def staff():
    return staff_client()


def payload(name):
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def record(name):
    """Store the payload as the ingest does; return the occurrence."""
    event = pipeline.prepare(map_event(payload(name), key=Key()), parsed=True)
    return Message.objects.get(message_id=pipeline.record(event))


def page_text(response):
    """Return a page's text, as read: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", response.content.decode()))


def variables(page, frame_function):
    """Return the ``(name, value)`` rows of one frame's local variables."""
    start = page.index(f'<span class="function">{frame_function}</span>')
    table = page[start : page.index("</table>", start)]
    rows = re.findall(r'<th scope="row">(.*?)</th><td><pre>(.*?)</pre>', table, re.S)
    return [(html.unescape(name), html.unescape(value)) for name, value in rows]


# --- sentry-python -----------------------------------------------------------


def test_python_variables_are_shown_as_the_sdks_text_once(staff):
    message = record("python-raise-from")

    page = staff.get(message.get_absolute_url()).content.decode()

    assert variables(page, "charge") == [
        ("order", "{'id': 17, 'lines': 2}"),
        (
            "response",
            "{'code': 'card_declined', 'retry': False, 'amounts': [1200, 'EUR']}",
        ),
        ("status", "'card_declined'"),
    ]
    # Quoted twice nowhere but in the raw data, which keeps the JSON as sent.
    shown, raw = html.unescape(page).split("Raw data")
    assert "'card_declined'\"" not in shown
    assert '"code": "\'card_declined\'"' in raw


def test_python_innermost_application_frame_opens_its_variables(staff):
    message = record("python-raise-from")

    page = staff.get(message.get_absolute_url()).content.decode()

    opened = re.findall(
        r'<span class="function">([^<]*)</span>(?:(?!data-frame>).)*?'
        r'<details class="vars" data-vars open>',
        page,
        re.S,
    )
    # The innermost frame of each exception of the chain, and only those.
    assert opened == ["charge", "checkout"]
    assert page.count('<details class="vars" data-vars open>') == 2
    assert page.count('<details class="vars" data-vars>') == 2


@pytest.mark.parametrize(
    ("name", "line"),
    [
        (
            "python-raise-from",
            "The above exception was the direct cause of the following exception:",
        ),
        (
            "python-during-handling",
            "During handling of the above exception, another exception occurred:",
        ),
    ],
)
def test_python_chains_read_as_python_prints_them(staff, name, line):
    message = record(name)

    text = page_text(staff.get(message.get_absolute_url()))

    assert line in text
    assert line in message.traceback
    assert text.index("__main__.PaymentError") < text.index(line)


def test_a_python_exception_names_no_logger_and_its_module_culprit(staff):
    message = record("python-raise-from")

    assert message.logger == ""
    assert message.view == "__main__.checkout"
    assert message.message == "RuntimeError: could not check out order 17"
    group_page = staff.get(reverse("sentry:group", args=[message.group_id]))
    assert "<dt>Logger</dt>" not in group_page.content.decode()


# --- JavaScript: @sentry/browser and @sentry/node ----------------------------


def test_browser_culprit_reads_function_and_script(staff):
    message = record("browser-error-cause")

    assert message.view == "pay(bundle.js)"
    assert message.logger == ""
    assert message.message == "Error: payment failed for order 31"
    text = page_text(staff.get(message.get_absolute_url()))
    # @sentry/browser names the Error's cause as such.
    assert "The above exception was the direct cause" in text
    assert "During handling" not in text


def test_a_browser_rejection_is_blamed_on_the_function_that_threw(staff):
    message = record("browser-rejection")

    assert message.view == "loadStock(bundle.js)"
    assert message.message == "RangeError: quantity -1 out of range"


def test_a_browser_message_is_a_message_with_its_stack(staff):
    message = record("browser-message")

    assert (message.message, message.class_name, message.traceback) == (
        "Checkout took 9 seconds",
        None,
        None,
    )
    assert "exception" not in message.data
    assert message.data["stacktrace"]["frames"][-1]["function"] == (
        "HTMLButtonElement.<anonymous>"
    )
    page = staff.get(message.get_absolute_url()).content.decode()
    text = html.unescape(re.sub(r"<[^>]*>", "", page))
    assert "Error: Checkout" not in text
    assert "Exception: Checkout" not in text
    assert "Stack most recent call last" in text
    assert '<span class="exc-type">' not in page


def test_a_browser_message_stored_as_an_exception_shows_as_a_message(staff):
    # Stored by an older version, which kept the synthetic exception.
    sent = payload("browser-message")
    message = record("browser-message")
    message.data = {**message.data, "exception": sent["exception"]}
    del message.data["stacktrace"]
    message.save()

    page = staff.get(message.get_absolute_url()).content.decode()

    assert '<span class="exc-type">' not in page
    assert "Stack <small>" in page


def test_node_culprit_reads_function_and_file(staff):
    message = record("node-error-cause")

    assert message.view == "checkout(node_send.mjs)"
    assert message.logger == ""
    text = page_text(staff.get(message.get_absolute_url()))
    assert "The above exception was the direct cause" in text


# --- sentry-go ---------------------------------------------------------------


def test_go_chain_is_introduced_without_claiming_its_kind(staff):
    message = record("go-wrapped-error")

    text = page_text(staff.get(message.get_absolute_url()))

    # sentry-go sends the transaction's name, which names the culprit.
    assert message.view == "POST /orders"
    assert message.logger == ""
    assert text.count("The following exception is linked to the one above:") == 2
    assert "During handling" not in text
    assert "direct cause" not in text
    assert "During handling" not in message.traceback


# --- sentry-ruby -------------------------------------------------------------


def test_ruby_module_is_not_repeated_before_its_type(staff):
    message = record("ruby-namespaced-error")

    page = staff.get(message.get_absolute_url()).content.decode()
    group_page = staff.get(reverse("sentry:group", args=[message.group_id]))

    assert message.message == "Acc::ConfigError: missing setting smtp_host"
    assert message.traceback.endswith("\nAcc::ConfigError: missing setting smtp_host")
    assert '<span class="exc-type">Acc::ConfigError</span>' in page
    for text in (page, group_page.content.decode(), message.traceback):
        assert "Acc.Acc::" not in text


def test_ruby_frames_all_marked_library_still_name_a_culprit(staff):
    sent = payload("ruby-namespaced-error")
    frames = sent["exception"]["values"][0]["stacktrace"]["frames"]
    assert {frame["in_app"] for frame in frames} == {False}

    message = record("ruby-namespaced-error")

    assert message.view == "load_config (worker.rb)"


def test_ruby_chain_is_introduced_without_claiming_its_kind(staff):
    message = record("ruby-error-cause")

    text = page_text(staff.get(message.get_absolute_url()))

    assert "The following exception is linked to the one above:" in text
    assert "During handling" not in text
    assert message.view == "rescue in save_order (tests/sdks/ruby/send.rb)"
    assert message.logger == ""


# --- the stream --------------------------------------------------------------


def test_errors_differing_only_by_their_cause_are_told_apart_in_the_stream(staff):
    first = record("ruby-error-cause")
    other = payload("ruby-error-cause")
    other["event_id"] = "f" * 32
    other["exception"]["values"][0]["type"] = "NetworkError"
    event = pipeline.prepare(map_event(other, key=Key()), parsed=True)
    second = Message.objects.get(message_id=pipeline.record(event))
    assert first.group_id != second.group_id
    assert first.message == second.message and first.view == second.view

    page = staff.get(reverse("sentry:index")).content.decode()
    poll = staff.get(reverse("sentry:poll")).json()

    assert "caused by StorageError" in page
    assert "caused by NetworkError" in page
    causes = {row["id"]: row["cause"] for row in poll["rows"]}
    assert causes == {first.group_id: "StorageError", second.group_id: "NetworkError"}


def test_the_stream_shows_no_logger_for_sdk_events(staff):
    record("go-wrapped-error")

    page = staff.get(reverse("sentry:index")).content.decode()

    assert '<span class="tag logger" data-field="logger" hidden></span>' in page
    assert GroupedMessage.objects.get().logger == ""
