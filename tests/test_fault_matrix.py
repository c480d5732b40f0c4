"""
The client survives everything a site can throw at it.

Each case puts something hostile in a frame's local variables, in the data
passed to the client, or in the exception itself, and records it. For every
case: no exception reaches the caller, the occurrence is stored, and what is
stored stays within the configured bounds. (A database that is down, locked
or read-only is in test_faults.py; the cache in test_flood_guard.py.)
"""

import array
import collections
import datetime as dt
import decimal
import io
import math
import sys
import threading
import uuid

import pytest
from django.contrib.auth.models import User
from django.test import RequestFactory, override_settings
from django.utils.functional import SimpleLazyObject, lazy
from django.utils.translation import gettext_lazy

from sentry.client.models import client
from sentry.limits import size_of
from sentry.models import GroupedMessage, Message

pytestmark = pytest.mark.django_db

MAX_STRING = 400


class RaisingRepr:
    def __repr__(self):
        raise RuntimeError("repr exploded")


class RaisingStrAndRepr:
    def __str__(self):
        raise RuntimeError("str exploded")

    __repr__ = __str__


class NonStringRepr:
    def __repr__(self):
        return 42


class HugeRepr:
    def __repr__(self):
        return "x" * 5_000_000


class RaisingGetattr:
    def __getattribute__(self, name):
        raise RuntimeError(f"no attribute {name} for you")


class RaisingClassProperty:
    @property
    def __class__(self):
        raise RuntimeError("__class__ exploded")


class RaisingEq:
    def __eq__(self, other):
        raise RuntimeError("eq exploded")

    def __hash__(self):
        return 1

    def __bool__(self):
        raise RuntimeError("bool exploded")


class BrokenMapping(dict):
    def items(self):
        raise RuntimeError("items exploded")

    def __len__(self):
        raise RuntimeError("len exploded")


class IterRaisesDict(dict):
    def __iter__(self):
        raise RuntimeError("iter exploded")

    def items(self):
        raise RuntimeError("items exploded")


class StrSubclass(str):
    def __str__(self):
        raise RuntimeError("str exploded")


class SentryHookReturnsItself:
    def __sentry__(self):
        return self


class SentryHookRaises:
    def __sentry__(self):
        raise ValueError("hook exploded")


def lazy_that_raises():
    raise RuntimeError("lazy evaluation exploded")


def self_referencing_list():
    loop = [1]
    loop.append(loop)
    return loop


def self_referencing_dict():
    loop = {}
    loop["me"] = {"again": loop}
    return loop


def deep_nesting(depth=5_000):
    value = []
    for _ in range(depth):
        value = [value]
    return value


def generator():
    yield from range(10)


LOCALS = {
    "repr_raises": RaisingRepr,
    "str_and_repr_raise": RaisingStrAndRepr,
    "repr_not_a_string": NonStringRepr,
    "repr_5mb": HugeRepr,
    "getattribute_raises": RaisingGetattr,
    "class_property_raises": RaisingClassProperty,
    "eq_hash_bool_raise": RaisingEq,
    "broken_mapping": BrokenMapping,
    "sentry_hook_returns_itself": SentryHookReturnsItself,
    "sentry_hook_raises": SentryHookRaises,
    "self_referencing_list": self_referencing_list,
    "self_referencing_dict": self_referencing_dict,
    "nesting_5000_deep": deep_nesting,
    "string_10mb": lambda: "é" * 10_000_000,
    "bytes_10mb": lambda: b"\x00\xff" * 5_000_000,
    "non_utf8_bytes": lambda: b"\xc3\x28\xa0\xa1\xff",
    "surrogates_in_str": lambda: "bad \udcff surrogate",
    "dict_1m_items": lambda: {i: i for i in range(1_000_000)},
    "list_1m_items": lambda: list(range(1_000_000)),
    "frozenset_1m_items": lambda: frozenset(range(1_000_000)),
    "array_3m_items": lambda: array.array("i", range(3_000_000)),
    "deque_1m_items": lambda: collections.deque(range(1_000_000)),
    "dict_keys_1m": lambda: dict.fromkeys(range(1_000_000)).keys(),
    "dict_subclass_whose_iteration_raises": lambda: IterRaisesDict.fromkeys(
        range(1000)
    ),
    "str_subclass_10mb": lambda: StrSubclass("s" * 10_000_000),
    "set_of_unorderable": lambda: {1, "a", None, (2, 3)},
    "generator": generator,
    "iterator": lambda: iter([1, 2, 3]),
    "lazy_object_that_raises": lambda: SimpleLazyObject(lazy_that_raises),
    "lazy_translation": lambda: gettext_lazy("Hello"),
    "lazy_that_raises_on_str": lambda: lazy(lazy_that_raises, str)(),
    "queryset": lambda: User.objects.all(),
    "unsaved_model_instance": lambda: User(username="jane"),
    "nan_and_infinities": lambda: [math.nan, math.inf, -math.inf],
    "huge_int": lambda: 10**5000,
    "decimal_and_uuid_and_dates": lambda: [
        decimal.Decimal("1.10"),
        uuid.uuid4(),
        dt.datetime.now(),
        dt.date.today(),
    ],
    "file_object": lambda: io.StringIO("content"),
    "thread_lock": threading.Lock,
    "module": lambda: sys,
    "type_object": lambda: type,
    "non_string_keys": lambda: {
        (1, 2): "tuple",
        None: "none",
        RaisingRepr(): "bad key",
    },
}


def fail_with_local(value):
    hostile = value  # noqa: F841  (captured as a frame variable)
    raise ValueError("failed with a hostile local")


@pytest.mark.parametrize("name", sorted(LOCALS))
def test_a_hostile_local_variable_is_stored_bounded(name):
    value = LOCALS[name]()
    try:
        fail_with_local(value)
    except ValueError:
        message_id = client.create_from_exception(
            data={"also": value}, tags={"t": value}
        )

    assert message_id is not None, f"{name} was not recorded"
    message = Message.objects.get(message_id=message_id)
    frame = message.data["exception"]["values"][-1]["stacktrace"]["frames"][-1]
    assert "hostile" in frame["vars"]
    assert size_of(message.data) < 300_000
    assert all(len(text) <= MAX_STRING for text in strings(message.data))


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


class StrRaises(Exception):
    def __str__(self):
        raise RuntimeError("no message")


class StrNotAString(Exception):
    def __str__(self):
        return 42


class ClassSkipRaises(Exception):
    @property
    def skip_sentry(self):
        raise RuntimeError("skip_sentry exploded")


def recursion(n=0):
    return recursion(n + 1)


def exception_cases():
    def chained():
        try:
            raise KeyError("inner")
        except KeyError as exc:
            raise ValueError("outer") from exc

    def context_cycle():
        first, second = ValueError("a"), TypeError("b")
        first.__context__, second.__context__ = second, first
        raise first

    def nested_groups():
        raise ExceptionGroup(
            "outer", [ExceptionGroup("inner", [ValueError(1)]), KeyError(2)]
        )

    def bytes_message():
        raise ValueError(b"\xff\xfe bytes message")

    def huge_message():
        raise ValueError("m" * 5_000_000)

    def long_chain():
        try:
            raise ValueError("first")
        except ValueError:
            error = None
            for n in range(200):
                try:
                    raise RuntimeError(n) from error
                except RuntimeError as exc:
                    error = exc
            raise error

    return {
        "recursion_error": recursion,
        "chained": chained,
        "context_cycle": context_cycle,
        "nested_exception_groups": nested_groups,
        "str_raises": lambda: (_ for _ in ()).throw(StrRaises()),
        "str_not_a_string": lambda: (_ for _ in ()).throw(StrNotAString()),
        "skip_sentry_property_raises": lambda: (_ for _ in ()).throw(ClassSkipRaises()),
        "bytes_message": bytes_message,
        "huge_message": huge_message,
        "chain_of_200": long_chain,
    }


EXCEPTIONS = exception_cases()


@pytest.mark.parametrize("name", sorted(EXCEPTIONS))
def test_a_hostile_exception_is_stored_bounded(name):
    try:
        EXCEPTIONS[name]()
    except Exception:
        message_id = client.create_from_exception()

    assert message_id is not None, f"{name} was not recorded"
    message = Message.objects.get(message_id=message_id)
    assert message.class_name
    assert len(message.message) <= 8192
    assert size_of(message.data) < 300_000


def test_an_exception_never_raised_has_no_traceback_and_is_still_stored():
    message_id = client.create_from_exception(exc_info=(KeyError, KeyError("x"), None))

    assert Message.objects.get(message_id=message_id).class_name == "KeyError"


def test_an_exception_class_without_an_instance_is_stored():
    message_id = client.create_from_exception(exc_info=(KeyError, None, None))

    assert Message.objects.get(message_id=message_id).class_name == "KeyError"


def test_recording_near_the_recursion_limit_never_raises(sentry_errors):
    results = []

    def dive(n):
        if n:
            return dive(n - 1)
        try:
            raise ValueError("deep")
        except ValueError:
            results.append(client.create_from_exception())

    dive(sys.getrecursionlimit() - 80)

    # Recorded, or (when even that was too deep) reported to sentry.errors.
    assert results[0] is not None or sentry_errors


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": [1, 2, 3]},
        {"data": "just a string"},
        {"data": RaisingRepr()},
        {"tags": [("a", "1"), ("b", None)]},
        {"tags": "not tags"},
        {"tags": RaisingRepr()},
        {"level": "loud"},
        {"level": None},
        {"level": 10**9},
        {"logger": RaisingRepr()},
        {"view": RaisingEq()},
        {"url": b"\xff\xfe"},
        {"server_name": "x" * 10_000},
        {"fingerprint": [RaisingRepr(), 1]},
        {"fingerprint": "not a list"},
        {"datetime": "yesterday"},
        {"message_id": "not hex at all"},
    ],
    ids=lambda kwargs: (
        next(iter(kwargs)) + ":" + type(next(iter(kwargs.values()))).__name__
    ),
)
def test_odd_arguments_are_coerced_not_fatal(kwargs):
    message_id = client.create_from_text("odd arguments", **kwargs)

    assert message_id is not None
    assert Message.objects.filter(message_id=message_id).exists()


@pytest.mark.parametrize(
    "message", [b"\xff bytes", RaisingRepr(), None, 12, "x" * 100_000]
)
def test_odd_messages_are_stored(message):
    message_id = client.create_from_text(message)

    assert Message.objects.get(message_id=message_id).message is not None


def test_a_request_that_fails_everywhere_is_still_recorded():
    request = RequestFactory().post(
        "/upload/", data=b"--broken", content_type="multipart/form-data; boundary=x"
    )
    request.META["HTTP_HOST"] = "evil host with spaces"
    request.user = SimpleLazyObject(lazy_that_raises)

    try:
        raise ValueError("with a broken request")
    except ValueError:
        message_id = client.create_from_exception(request=request)

    message = Message.objects.get(message_id=message_id)
    assert message.data["request"]["method"] == "POST"
    assert "user" not in message.data


@pytest.mark.django_db(transaction=True)
@override_settings(SENTRY_THRASHING_LIMIT=0)
def test_many_threads_recording_at_once_lose_nothing():
    errors = []

    def record(n):
        try:
            for _ in range(10):
                if client.create_from_text(f"thread error {n % 3}") is None:
                    errors.append(n)
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=record, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(GroupedMessage.objects.values_list("times_seen", flat=True)) == [
        20,
        30,
        30,
    ]
