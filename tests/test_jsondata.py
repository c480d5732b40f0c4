"""
Event data parsed from JSON is shaped and scrubbed in one walk, with exactly
the result of shaping it and then scrubbing it.
"""

import datetime as dt
import pickle

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from sentry import pipeline
from sentry.ingest.mapping import map_event
from sentry.jsondata import shape_and_scrub
from sentry.scrubbing import MASK, Scrubber
from sentry.utils.eventdata import shape_event_data
from sentry.utils.shaping import Shaper
from tests.ingest_factories import exception_event

#: Bounds and scrubbing options the equivalence must hold under: the
#: defaults, tight bounds (every limit is hit), no limit on strings, extra
#: sensitive names -- one that masks a key of the layout (``value``), one
#: that masks the truncation marks (``...``).
VARIANTS = [
    {},
    {
        "SENTRY_MAX_LENGTH_STRING": 12,
        "SENTRY_MAX_LENGTH_LIST": 2,
        "SENTRY_MAX_DEPTH": 2,
        "SENTRY_MAX_FRAMES": 3,
    },
    {"SENTRY_MAX_LENGTH_STRING": 0, "SENTRY_MAX_DEPTH": 0},
    {"SENTRY_SCRUB_FIELDS": ["value", "pin"]},
    {"SENTRY_SCRUB_FIELDS": ["..."], "SENTRY_MAX_LENGTH_LIST": 1},
]

KEYS = st.sampled_from(
    [
        "password",
        "api_key",
        "Authorization",
        "Cookie",
        "cookies",
        "sessionid",
        "csrftoken",
        "theme",
        "query_string",
        "url",
        "headers",
        "data",
        "module",
        "context_line",
        "pre_context",
        "vars",
        "value",
        "values",
        "frames",
        "stacktrace",
        "author",
        "tokenizer",
        "...",
        "pin",
        "x" * 450 + "password",
        "clé",
    ]
) | st.text(max_size=8)
TEXTS = st.sampled_from(
    [
        "",
        "password=hunter2&page=3",
        "retry with api_key=K1 now",
        "paid with 4111 1111 1111 1111",
        "4111111111111111",
        "5500-0000-0000-0004 and 378282246310005",
        "http://x/?token=abc&b=2",
        "a=1&sessionid=s&b=4111111111111111",
        "1234567890123",
        "é" * 420,
        "x" * 1000,
        "lone \ud800 surrogate",
        "paired \ud83d\ude00 surrogates",
        "=" * 20,
    ]
) | st.text(max_size=30)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**53 - 2, max_value=2**64)
    | st.just(4111111111111111111)
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXTS
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(KEYS, children, max_size=5)
    ),
    max_leaves=30,
)
FRAMES = st.lists(
    st.dictionaries(
        st.sampled_from(
            ["function", "module", "lineno", "context_line", "pre_context", "vars"]
        )
        | KEYS,
        VALUES,
        max_size=6,
    )
    | VALUES,
    max_size=6,
)
STACKTRACES = st.fixed_dictionaries(
    {}, optional={"frames": FRAMES, "frames_omitted": st.integers() | VALUES}
)
EXCEPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "type": TEXTS,
        "value": VALUES,
        "module": VALUES,
        "mechanism": VALUES,
        "stacktrace": STACKTRACES | VALUES,
        "password": VALUES,
    },
)
STACK_LISTS = (
    st.fixed_dictionaries({}, optional={"values": st.lists(EXCEPTIONS, max_size=3)})
    | st.lists(EXCEPTIONS, max_size=3)
    | VALUES
)
REQUESTS = st.fixed_dictionaries(
    {},
    optional={
        "url": TEXTS,
        "query_string": TEXTS | VALUES,
        "cookies": st.dictionaries(KEYS, VALUES, max_size=4) | VALUES,
        "headers": st.dictionaries(KEYS, TEXTS, max_size=4),
        "data": VALUES,
        "env": VALUES,
    },
)
DATA = st.fixed_dictionaries(
    {},
    optional={
        "exception": STACK_LISTS,
        "threads": STACK_LISTS,
        "stacktrace": STACKTRACES | VALUES,
        "breadcrumbs": st.lists(st.dictionaries(KEYS, VALUES) | VALUES, max_size=4)
        | VALUES,
        "request": REQUESTS | VALUES,
        "user": VALUES,
        "tags": VALUES,
        "contexts": VALUES,
        "extra": VALUES,
        "logentry": VALUES,
    },
).flatmap(
    lambda known: st.dictionaries(KEYS, VALUES, max_size=4).map(
        lambda other: {**other, **known}
    )
)


def shaped_then_scrubbed(data):
    return Scrubber()(shape_event_data(data, Shaper()))


def assert_identical(fast, reference):
    # Pickled alike: equal, and sharing the same objects where it matters
    # to the bytes stored.
    assert fast == reference
    assert pickle.dumps(fast) == pickle.dumps(reference)


@pytest.mark.parametrize("variant", VARIANTS)
@settings(max_examples=60, deadline=None, database=None)
@given(data=DATA)
def test_one_walk_gives_what_shaping_then_scrubbing_gives(variant, data):
    with override_settings(**variant):
        reference = shaped_then_scrubbed(data)
        assert_identical(shape_and_scrub(data, Shaper(), Scrubber()), reference)


# Not the variants that turn data["logentry"] into a mark (no depth at all)
# or mask data["exception"]["values"] ("value"): the grouping cannot read
# those, whichever way the data was shaped.
@pytest.mark.parametrize(
    "variant", [*VARIANTS[:2], {"SENTRY_MAX_LENGTH_STRING": 0}, VARIANTS[4]]
)
@settings(max_examples=30, deadline=None, database=None)
@given(payload=DATA, message=TEXTS)
def test_prepared_sdk_events_are_the_same_either_way(variant, payload, message):
    payload = {**payload, "message": message, "server_name": "web-1"}
    received = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)

    def prepared(parsed):
        event = map_event(payload, event_id="a" * 32, received=received)
        return pipeline.prepare(event, parsed=parsed)

    with override_settings(**variant):
        fast, reference = prepared(parsed=True), prepared(parsed=False)
    assert fast.pop("data") == reference.pop("data")
    assert fast == reference


def test_an_sdk_event_is_the_same_either_way():
    payload = exception_event(
        request={
            "url": "https://shop.example.com/pay/?card=4111111111111111&step=2",
            "query_string": "password=hunter2&step=2",
            "cookies": {"sessionid": "s3cret", "theme": "dark"},
            "headers": {"Authorization": "Bearer abc", "Accept": "*/*"},
            "data": {"password": "hunter2", "note": "api_key=K1"},
        }
    )
    event = map_event(payload, event_id="a" * 32)
    reference = shaped_then_scrubbed(pipeline.normalize(event)["data"])

    data = shape_and_scrub(pipeline.normalize(event)["data"], Shaper(), Scrubber())

    assert_identical(data, reference)
    assert data["request"]["data"] == {"password": MASK, "note": f"api_key={MASK}"}
    assert data["request"]["cookies"] == {"sessionid": MASK, "theme": "dark"}


def test_values_that_no_json_holds_are_shaped_as_anywhere():
    data = {"extra": {"when": dt.date(2026, 1, 2), "pair": (1, 2), "blob": b"\xff"}}

    assert_identical(
        shape_and_scrub(data, Shaper(), Scrubber()), shaped_then_scrubbed(data)
    )


@override_settings(SENTRY_SCRUB_FIELDS=["frames"])
def test_a_sensitive_layout_key_is_masked_as_anywhere():
    data = {"stacktrace": {"frames": [{"function": "f", "vars": {"a": 1}}]}}

    assert shape_and_scrub(data, Shaper(), Scrubber()) == {
        "stacktrace": {"frames": MASK}
    }


def test_card_numbers_kept_as_integers_are_masked_either_way():
    data = {
        "extra": {"ref": 4111111111111111, "ts": 1733540663123},
        "stacktrace": {"frames": [], "frames_omitted": 41847568246589888},
    }

    fast = shape_and_scrub(data, Shaper(), Scrubber())

    assert_identical(fast, shaped_then_scrubbed(data))
    assert fast["extra"] == {"ref": MASK, "ts": 1733540663123}
    # A count of frames, which shaping may add to, is never data.
    assert fast["stacktrace"]["frames_omitted"] == 41847568246589888


def test_the_value_of_a_sensitive_option_in_an_argument_list_is_masked_either_way():
    data = {"extra": {"argv": ["mysql", "--password", "x1", "--user", "shop"]}}

    fast = shape_and_scrub(data, Shaper(), Scrubber())

    assert_identical(fast, shaped_then_scrubbed(data))
    assert fast["extra"]["argv"] == ["mysql", "--password", MASK, "--user", "shop"]


def test_secrets_used_as_dict_keys_are_masked_either_way():
    data = {"extra": {"users": {"ghp_" + "a1" * 18: "user 42", "n": 1}}}

    fast = shape_and_scrub(data, Shaper(), Scrubber())

    assert_identical(fast, shaped_then_scrubbed(data))
    assert fast["extra"]["users"] == {MASK: "user 42", "n": 1}
