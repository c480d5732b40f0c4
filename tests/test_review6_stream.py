"""
Hostile query strings on the stream's scoped sorts, its environment
selector and event navigation (review 6): each is answered, never a 500.
"""

import pytest
from django.urls import reverse

from sentry import pipeline
from sentry.models import GroupedMessage
from tests.dashboard_factories import (
    make_group,
    make_message,
    minutes_ago,
    staff_client,
)

pytestmark = pytest.mark.django_db

#: Cursors no page wrote: out of range, not numbers, not finite.
CURSORS = [
    "1e308_1",
    "-1_1",
    "99999999999999999999999_1",
    "x_y",
    "1_99999999999999999999",
    "0.5_1",
    "nan_1",
    "-99999999999999999_1",
]


def record(environment="production", release="1.0"):
    data = {"environment": environment, "release": release}
    event = {"message": "boom", "data": data}
    return pipeline.record(pipeline.prepare(event, shaped=True))


@pytest.mark.parametrize("q", ["environment:production", "release:1.0", ""])
@pytest.mark.parametrize("sort", ["priority", "date", "new", "freq", "users"])
def test_crafted_cursors_of_the_scoped_sorts_are_no_error(q, sort):
    record()
    browser = staff_client()
    for cursor in CURSORS:
        for direction in ("after", "before"):
            response = browser.get(
                reverse("sentry:index"), {"q": q, "sort": sort, direction: cursor}
            )
            assert response.status_code == 200, (direction, cursor)


@pytest.mark.parametrize(
    "environment", ["x" * 5000, "a\x00b", '{"a": 1}', "\u202eevil", "x\ny"]
)
def test_a_hostile_environment_is_shown_escaped_and_not_remembered_if_unstorable(
    environment,
):
    record()
    browser = staff_client()

    response = browser.get(reverse("sentry:index"), {"environment": environment})

    assert response.status_code == 200
    assert list(response.context["rows"]) == []
    html = response.content.decode()
    assert '{"a": 1}' not in html  # escaped in the option, if shown
    # The next visit opens on a stream that works.
    again = browser.get(reverse("sentry:index"))
    assert again.status_code == 200


def test_an_environment_that_is_not_utf8_is_no_error():
    record()
    browser = staff_client()
    # A lone surrogate encoded (CESU-8), and a bare continuation byte.
    for raw in ("%ED%A0%80", "%80", "%C0%AF"):
        url = reverse("sentry:index") + "?environment=" + raw
        assert browser.get(url).status_code == 200, raw
        assert browser.get(reverse("sentry:index")).status_code == 200, raw


def test_the_selected_environment_narrows_and_a_long_one_is_forgotten():
    record()
    browser = staff_client()
    assert (
        len(
            browser.get(reverse("sentry:index"), {"environment": "production"}).context[
                "rows"
            ]
        )
        == 1
    )
    assert len(browser.get(reverse("sentry:index")).context["rows"]) == 1

    browser.get(reverse("sentry:index"), {"environment": "p" * 5000})

    # Not remembered: the stream opens on all environments again.
    assert GroupedMessage.objects.count() == 1
    assert len(browser.get(reverse("sentry:index")).context["rows"]) == 1


@pytest.mark.parametrize(
    "q",
    [
        "environment:" + "x" * 5000,
        "release:\x00",
        'release:"',
        "is:",
        "(" * 500,
        "environment:a environment:b",
        "a" * 100_000,
    ],
)
def test_hostile_searches_on_an_occurrence_page_and_the_stream_are_no_error(q):
    group = make_group("x")
    messages = [make_message(group, when=minutes_ago(5 - n)) for n in range(3)]
    browser = staff_client()

    url = reverse("sentry:message", args=[group.pk, messages[1].message_id])
    assert browser.get(url, {"q": q}).status_code in (200, 400, 404)
    assert browser.get(reverse("sentry:index"), {"q": q}).status_code in (200, 400)


def test_a_link_from_another_site_narrows_one_page_and_is_not_remembered():
    record()
    browser = staff_client()
    index = reverse("sentry:index")

    lured = browser.get(
        index, {"environment": "nothing-here"}, headers={"Sec-Fetch-Site": "cross-site"}
    )

    assert list(lured.context["rows"]) == []
    # The next visit is not left on an environment nobody chose.
    assert (
        len(browser.get(index, headers={"Sec-Fetch-Site": "none"}).context["rows"]) == 1
    )
    # Chosen on the page itself (or typed), it is remembered.
    browser.get(
        index, {"environment": "staging"}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert list(browser.get(index).context["rows"]) == []
    browser.get(index, {"environment": ""}, headers={"Sec-Fetch-Site": "none"})
    assert len(browser.get(index).context["rows"]) == 1
