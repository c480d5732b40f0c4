"""Context lines are syntax-highlighted, escaped and bounded (the highlight extra)."""

import html
import re

import pytest

from sentry import highlight
from sentry.display import Event
from sentry.highlight import MAX_CHARACTERS, MAX_LINE_LENGTH, Highlighter, lexer_name
from sentry.models import Message
from tests.complexity import assert_linear
from tests.dashboard_factories import record_event, staff_client

HOSTILE = [
    "<script>alert(1)</script>",
    'x = "</span></pre><img src=x onerror=alert(1)>',
    "# &lt;not an entity&gt; & <b>",
    "'''<svg onload=alert(1)>",
]


def text_of(line):
    return html.unescape(re.sub(r"<[^>]*>", "", line))


def test_the_extra_is_installed_for_the_tests():
    # pyproject's test extra installs it: what follows is really tested.
    assert highlight.available()


def test_python_lines_come_back_highlighted_one_per_line():
    lines = ["def pay(order):", '    """Charge', '    it."""', "    return 1"]

    result = Highlighter().lines(lines, "/srv/app/shop.py")

    assert len(result) == 4
    assert '<span class="hl-k">def</span>' in result[0]
    # A string over three lines: each line is whole HTML of its own.
    assert all(line.count("<span") == line.count("</span>") for line in result)
    assert [text_of(line) for line in result] == lines


def test_hostile_lines_are_escaped_and_read_as_sent():
    result = Highlighter("python").lines(HOSTILE)

    joined = "".join(result)
    assert "<script" not in joined and "<img" not in joined and "<svg" not in joined
    assert "<b>" not in joined
    assert [text_of(line) for line in result] == HOSTILE


def test_line_breaks_inside_a_line_do_not_shift_the_lines():
    lines = ["a = 1\nb = 2", "c = 3\r", "d = '''", "e'''"]

    result = Highlighter().lines(lines, "x.py")

    assert [text_of(line) for line in result] == [
        "a = 1 b = 2",
        "c = 3 ",
        "d = '''",
        "e'''",
    ]


def test_long_lines_are_cut():
    result = Highlighter().lines(["x = 1", "y = '" + "a" * 100_000], "x.py")

    assert len(text_of(result[1])) == MAX_LINE_LENGTH


@pytest.mark.parametrize(
    ("filename", "platform", "name"),
    [
        ("/srv/app/shop.py", None, "python"),
        ("https://shop.example/app.bundle.js?v=3#x", None, "javascript"),
        ("node_send.mjs", None, "javascript"),
        ("app/models/order.rb", None, "ruby"),
        ("/srv/app/main.go", None, "go"),
        ("<anonymous>", "node", "javascript"),
        ("app:///main", "ruby", "ruby"),
        ("README", None, None),
        (None, "cobol", None),
    ],
)
def test_the_language_comes_from_the_file_else_the_platform(filename, platform, name):
    assert lexer_name(filename, platform) == name


def test_an_unknown_language_is_left_as_text():
    assert Highlighter().lines(["MOVE A TO B."], "PAY.CBL") is None


def test_past_the_budget_frames_are_left_as_text():
    highlighter = Highlighter("python")
    line = "x = 1  # " + "a" * 91
    lines = [line] * 10
    done = 0
    while highlighter.lines(lines) is not None:
        done += 1

    assert done == MAX_CHARACTERS // (len(line) * 10)
    assert done == 4
    assert highlighter.lines(["x = 1"]) is None


def test_without_pygments_frames_are_plain_text(monkeypatch):
    # As when the extra is not installed.
    monkeypatch.setattr(highlight, "pygments", None)
    frame = {
        "filename": "shop.py",
        "lineno": 2,
        "pre_context": ["def pay():"],
        "context_line": "    return 1",
        "post_context": [],
    }
    data = {"exception": {"values": [{"type": "E", "stacktrace": {"frames": [frame]}}]}}

    event = Event(Message(message="x", data=data))

    assert event.highlighted is False
    assert event.exceptions[0].frames[0].context == [
        (1, "def pay():", False),
        (2, "    return 1", True),
    ]


@pytest.mark.django_db
def test_a_highlighted_page_links_the_highlight_styles():
    frame = {"filename": "shop.py", "lineno": 1, "context_line": "return 1"}
    data = {"exception": {"values": [{"type": "E", "stacktrace": {"frames": [frame]}}]}}
    message = record_event("x", data=data)

    page = staff_client().get(message.get_absolute_url()).content.decode()

    assert 'href="/static/sentry/highlight.css"' in page
    assert '<span class="hl-k">return</span>' in page


@pytest.mark.django_db
def test_pages_render_in_time_linear_in_the_length_of_context_lines():
    staff = staff_client()

    def make(n):
        line = "x = '" + "<a>" * n
        frame = {
            "filename": "shop.py",
            "lineno": 10,
            "pre_context": [line] * 5,
            "context_line": line,
            "post_context": [line] * 5,
        }
        values = [{"type": "E", "stacktrace": {"frames": [frame] * 20}}]
        return record_event(f"long {n}", data={"exception": {"values": values}})

    def run(message):
        assert staff.get(message.get_absolute_url()).status_code == 200

    assert_linear(run, make, 1_000, max_n=100_000)
