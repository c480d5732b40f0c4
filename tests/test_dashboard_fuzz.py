"""Hostile parameters never make the dashboard, the API or the feeds fail: no 5xx."""

from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentry.api.tokens import ApiToken
from tests.dashboard_factories import (
    XSS,
    make_group,
    make_message,
    seen_with,
    staff_client,
)

pytestmark = pytest.mark.django_db

#: Text that broke a parser once, or could: NUL and other control
#: characters, Unicode digits, numbers past every integer type, long text.
SPECIAL = [
    "",
    "\x00",
    "1\x00",
    "\x0b",
    "\x1b[31m",
    "\u00b2",
    "\u0663",
    "\uff11",
    " 1",
    "-1",
    "0",
    "1.5",
    "nan",
    "inf",
    "1e400",
    str(2**31),
    str(2**63),
    str(2**64),
    "9" * 400,
    "x" * 5000,
    XSS,
    "all",
    "40",
    "\ud7ff\ufffe",
]
numbers = st.integers(min_value=-(2**70), max_value=2**70).map(str)
hostile = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=40),
    numbers,
    # Cursors: "<value>_<pk>" in any of their parts.
    st.builds(
        lambda a, b: f"{a}_{b}",
        st.one_of(numbers, st.sampled_from(SPECIAL)),
        st.one_of(numbers, st.sampled_from(SPECIAL)),
    ),
)
PARAMETERS = [
    "q",
    "sort",
    "since",
    "status",
    "logger",
    "level",
    "server_name",
    "site",
    "after",
    "before",
    "range",
    "limit",
    "offset",
    "token",
    "p",
    "next",
]
queries = st.dictionaries(
    st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=10)),
    st.one_of(hostile, st.lists(hostile, min_size=2, max_size=3)),
    max_size=5,
)
GET_PAGES = [
    "sentry:index",
    "sentry:poll",
    "sentry:search",
    "sentry:group",
    "sentry:messages",
    "sentry:message",
    "sentry:message_json",
    "sentry:feed-messages",
    "sentry:feed-groups",
    "sentry:api-groups",
    "sentry:api-group",
    "sentry:api-occurrences",
    "sentry:api-occurrence",
    "sentry:login",
]
GROUP_PAGES = (
    "sentry:group",
    "sentry:messages",
    "sentry:api-group",
    "sentry:api-occurrences",
)
GROUP_PLACEHOLDER = 918273645
MESSAGE_PLACEHOLDER = "message-placeholder"
FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def site():
    """Return ``(staff client, token client, url of each page)`` over real data."""
    group = make_group(XSS, logger="shop", class_name="ValueError")
    message = make_message(group, traceback=f"Traceback: {XSS}")
    seen_with(group, "server_name", "web-1")
    seen_with(group, "logger", "shop")
    seen_with(group, "level", "40")
    staff = staff_client()
    reader = get_user_model().objects.create_user("api", is_staff=True)
    token = ApiToken.objects.create_token(reader)[1]
    api = Client(headers={"Authorization": f"Bearer {token}"})
    ids = {"group_id": group.pk, "message_id": message.message_id}
    return staff, api, ids


def url_of(name, ids, group_id=None, message_id=None):
    """Return the page's URL, with hostile path parts when given."""
    group_id = ids["group_id"] if group_id is None else group_id
    message_id = ids["message_id"] if message_id is None else message_id
    if name in GROUP_PAGES:
        args = [GROUP_PLACEHOLDER]
    elif name in ("sentry:message", "sentry:message_json"):
        args = [GROUP_PLACEHOLDER, MESSAGE_PLACEHOLDER]
    elif name == "sentry:api-occurrence":
        args = [MESSAGE_PLACEHOLDER]
    else:
        args = []
    # Built by hand: reverse() refuses what the path converters do not match.
    return (
        reverse(name, args=args)
        .replace(str(GROUP_PLACEHOLDER), str(group_id))
        .replace(MESSAGE_PLACEHOLDER, quote(message_id, safe=""))
    )


def assert_no_server_error(response):
    assert response.status_code < 500, response.content[:500]


@FUZZ
@given(
    name=st.sampled_from(GET_PAGES),
    query=queries,
    as_json=st.booleans(),
)
def test_no_query_parameter_gets_a_5xx(site, name, query, as_json):
    staff, api, ids = site
    browser = api if name.startswith("sentry:api-") else staff
    headers = {"Accept": "application/json"} if as_json else {}

    assert_no_server_error(browser.get(url_of(name, ids), query, headers=headers))


@FUZZ
@given(
    name=st.sampled_from(GET_PAGES),
    group_id=st.integers(min_value=0, max_value=2**80),
    message_id=st.one_of(st.sampled_from(SPECIAL[:10]), st.text(max_size=40)),
)
def test_no_path_part_gets_a_5xx(site, name, group_id, message_id):
    staff, api, ids = site
    browser = api if name.startswith("sentry:api-") else staff
    if not message_id.strip("/") or message_id in (".", ".."):
        message_id = "x"  # an empty segment is another URL

    url = url_of(name, ids, group_id=group_id, message_id=message_id)

    assert_no_server_error(browser.get(url))


@FUZZ
@given(
    action=st.sampled_from(["bulk", "resolve", "unresolve", "api"]),
    query=queries,
    form=st.fixed_dictionaries(
        {},
        optional={
            "op": st.one_of(
                st.sampled_from(
                    [
                        "resolve-selected",
                        "unresolve-selected",
                        "resolve-all",
                        "unresolve-all",
                    ]
                ),
                hostile,
            ),
            "ids": st.lists(st.one_of(hostile, numbers), max_size=5),
            "next": hostile,
            "unresolve": hostile,
        },
    ),
    as_json=st.booleans(),
)
def test_no_action_parameter_gets_a_5xx(site, action, query, form, as_json):
    staff, api, ids = site
    headers = {"Accept": "application/json"} if as_json else {}
    if action == "bulk":
        url = reverse("sentry:bulk")
    elif action == "api":
        url = reverse("sentry:api-resolve", args=[ids["group_id"]])
    else:
        url = reverse(f"sentry:{action}", args=[ids["group_id"]])
    browser = api if action == "api" else staff
    if query:
        url += "?" + "&".join(
            f"{quote(str(k))}={quote(str(v))}" for k, v in query.items()
        )

    assert_no_server_error(browser.post(url, form, headers=headers))
