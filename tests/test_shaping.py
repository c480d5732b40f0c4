"""Captured values become bounded builtins, whatever they are."""

import math

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy

from sentry.utils.shaping import (
    CUT_MARK,
    CYCLE_MARK,
    DEPTH_MARK,
    Shaper,
    shape,
    truncate,
)

from .complexity import assert_linear

BUILTINS = (dict, list, str, int, float, bool, type(None))


def only_builtins(value):
    if isinstance(value, dict):
        return all(type(k) is str and only_builtins(v) for k, v in value.items())
    if isinstance(value, list):
        return all(only_builtins(v) for v in value)
    return type(value) in BUILTINS


class BrokenRepr:
    def __repr__(self):
        raise RuntimeError("no repr")


class NonStringRepr:
    def __repr__(self):
        return 42


class WithHook:
    def __sentry__(self):
        return {"kind": "custom", "secret_sauce": [1, 2]}


class BrokenHook:
    def __sentry__(self):
        raise ValueError("hook failed")


def test_plain_values_are_kept():
    value = {"a": 1, "b": [1.5, True, None, "x"], "c": {"d": "e"}}
    assert shape(value) == value


def test_tuples_and_sets_become_lists():
    assert shape((1, 2)) == [1, 2]
    assert shape({3, 1, 2}) == [1, 2, 3]


def test_long_strings_are_cut_and_marked():
    result = shape("x" * 1000, max_string=100)
    assert len(result) == 100
    assert result.endswith("...")


def test_long_lists_and_dicts_are_cut_and_say_how_much():
    assert shape(list(range(100)), max_list=3) == [0, 1, 2, "... (97 more items)"]
    result = shape({str(i): i for i in range(10)}, max_list=2)
    assert result == {"0": 0, "1": 1, "...": "(8 more items)"}


def test_depth_is_bounded():
    deep = {"a": {"b": {"c": {"d": 1}}}}
    assert shape(deep, max_depth=2) == {"a": {"b": DEPTH_MARK}}


def test_cycles_are_marked():
    loop = []
    loop.append(loop)
    mapping = {}
    mapping["self"] = mapping
    assert shape(loop) == [CYCLE_MARK]
    assert shape(mapping) == {"self": CYCLE_MARK}


def test_a_shared_object_that_is_no_cycle_is_shown_twice():
    shared = [1]
    assert shape([shared, shared]) == [[1], [1]]


def test_broken_and_odd_reprs_are_described():
    assert shape(BrokenRepr()) == "<unrepresentable BrokenRepr object>"
    assert shape(NonStringRepr()) == "<unrepresentable NonStringRepr object>"


def test_the_sentry_hook_supplies_the_representation():
    assert shape(WithHook()) == {"kind": "custom", "secret_sauce": [1, 2]}
    assert "BrokenHook" in shape(BrokenHook())


def test_bytes_are_decoded_or_escaped():
    assert shape(b"caf\xc3\xa9") == "café"
    assert shape(b"\xff\xfe\x00") == repr(b"\xff\xfe\x00")


def test_non_finite_floats_and_huge_ints_stay_json_safe():
    assert shape(math.nan) == "nan"
    assert shape(math.inf) == "inf"
    assert shape(10**30) == str(10**30)
    assert shape(7) == 7


def test_lazy_translations_are_rendered():
    assert shape(gettext_lazy("Hello")) == "Hello"


def test_generators_are_described_not_consumed():
    consumed = []

    def numbers():
        for n in range(3):
            consumed.append(n)
            yield n

    gen = numbers()
    assert "generator" in shape(gen)
    assert consumed == []


@pytest.mark.django_db
def test_querysets_are_described_without_running_them():
    with CaptureQueriesContext(connection) as queries:
        result = shape({"users": User.objects.all()})
    assert result == {"users": "<QuerySet of auth.User>"}
    assert len(queries) == 0


@pytest.mark.django_db
def test_model_instances_show_label_and_key():
    user = User(pk=5, username="x")
    assert shape(user) == "<auth.User: pk=5>"


def test_non_string_keys_become_strings():
    assert shape({1: "a", (2, 3): "b", None: "c"}) == {
        "1": "a",
        "(2, 3)": "b",
        "None": "c",
    }


def test_huge_values_stay_small_and_builtin():
    huge = {
        "text": "y" * 10_000_000,
        "blob": b"\x00" * 10_000_000,
        "items": list(range(1_000_000)),
        "nested": [[[[[[[[["deep"]]]]]]]]],
    }
    result = Shaper(max_string=200, max_list=10, max_depth=5)(huge)
    assert only_builtins(result)
    assert len(repr(result)) < 5_000


def test_truncate_leaves_short_text_alone():
    assert truncate("abc", 10) == "abc"


def test_lone_surrogates_are_replaced_and_question_marks_kept():
    assert shape("bad \udcff? ok") == "bad \ufffd? ok"


def test_ints_too_big_to_print_are_described():
    assert shape(10**5000) == f"<int of {(10**5000).bit_length()} bits>"


# --- the work is bounded by what is kept, not by the size of the value --------


class SlowLenList(list):
    def __len__(self):
        raise AssertionError("the subclass's __len__ was called")

    def __iter__(self):
        raise AssertionError("the subclass's __iter__ was called")


class TextSubclass(str):
    def __str__(self):
        raise AssertionError("the subclass's __str__ was called")


def capture_local(value):
    """Build (not store) the event of an exception raised with ``value`` local."""
    from sentry.client.base import SentryClient

    def fail(held):
        raise ValueError("with a large local")

    try:
        fail(value)
    except ValueError as exc:
        return SentryClient().build_event(exception=exc, data={"again": value})


@pytest.mark.parametrize(
    "make",
    [
        lambda n: ["some text"] * n,
        lambda n: dict.fromkeys(range(n), "v"),
        lambda n: "x" * n,
        lambda n: frozenset(range(n)),
        lambda n: SlowLenList(range(n)),
        lambda n: TextSubclass("y" * n),
    ],
    ids=["list_of_strings", "dict", "string", "frozenset", "list_subclass", "str_sub"],
)
def test_capturing_a_local_costs_what_is_kept_not_its_size(make):
    assert_linear(capture_local, make, 10_000, max_n=160_000)


def test_builtin_subclasses_are_read_through_the_builtin():
    assert shape(SlowLenList([1, 2]))[:2] == [1, 2]
    assert shape(TextSubclass("abc")) == "abc"


def test_a_set_is_sorted_only_as_far_as_it_is_kept():
    assert shape(frozenset(range(100)), max_list=3) == [0, 1, 2, "... (97 more items)"]


def test_a_slow_repr_is_asked_once_per_shaper():
    calls = []

    class Counted:
        def __repr__(self):
            calls.append(1)
            return "<counted>"

    value = Counted()
    shaper = Shaper()
    assert shaper([value, value, {"again": value}]) == [
        "<counted>",
        "<counted>",
        {"again": "<counted>"},
    ]
    assert len(calls) == 1


def test_past_the_deadline_types_are_named_and_containers_cut():
    class Opaque:
        def __repr__(self):
            raise AssertionError("called past the deadline")

    shaper = Shaper(deadline=0)
    result = shaper({"number": 1, "object": Opaque(), "nested": [1, 2]})
    assert result == {"number": 1, "object": "<Opaque object>", "nested": CUT_MARK}
    assert shaper.cut
