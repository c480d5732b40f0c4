"""
Turn arbitrary Python values into bounded, safe builtins.

Everything the app stores or sends goes through :func:`shape` first: the
result is made only of dict, list, str, int, float, bool and None, with every
string, collection and nesting level bounded, so that a hostile or enormous
value can neither break capture nor bloat the database.
"""

import math
import types
from collections.abc import Mapping

from django.db.models import Model
from django.db.models.query import QuerySet
from django.utils.functional import LazyObject, Promise, empty

from ..conf import settings

TRUNCATION_MARK = "..."
CYCLE_MARK = "<cycle>"
DEPTH_MARK = "<max depth>"
#: Integers beyond what databases and JSON parsers agree on become strings.
MAX_SAFE_INT = 2**53


class Shaper:
    """Bounded, cycle-safe conversion of values to builtins."""

    def __init__(self, max_string=None, max_list=None, max_depth=None):
        self.max_string = (
            max_string if max_string is not None else settings.MAX_LENGTH_STRING
        )
        self.max_list = max_list if max_list is not None else settings.MAX_LENGTH_LIST
        self.max_depth = max_depth if max_depth is not None else settings.MAX_DEPTH

    def __call__(self, value):
        return self._shape(value, 0, set())

    def text(self, value, max_length=None):
        """Return ``value`` as a bounded str, whatever it is."""
        return truncate(to_text(value), max_length or self.max_string)

    def _shape(self, value, depth, seen):
        # The most common types first: this runs for every local variable.
        if value is None or value is True or value is False:
            return value
        cls = type(value)
        if cls is str:
            return truncate(value, self.max_string)
        if cls is int:
            return value if -MAX_SAFE_INT <= value <= MAX_SAFE_INT else big_int(value)
        if cls is float:
            return value if math.isfinite(value) else repr(value)
        if cls is dict or cls is list:
            # Plain containers (all of parsed JSON): what _shape_other would
            # do, without asking them for hooks they cannot have.
            if depth >= self.max_depth:
                return DEPTH_MARK
            key = id(value)
            if key in seen:
                return CYCLE_MARK
            seen.add(key)
            try:
                if cls is dict:
                    return self._shape_mapping(value, depth, seen)
                return self._shape_sequence(value, depth, seen)
            finally:
                seen.discard(key)
        try:
            return self._shape_other(value, cls, depth, seen)
        except Exception:
            # Whatever the object does, capture goes on: describe it by its
            # type, which asks nothing of the object itself.
            return f"<unrepresentable {cls.__qualname__} object>"

    def _shape_other(self, value, cls, depth, seen):
        # issubclass(type(value), ...) rather than isinstance(): isinstance
        # reads __class__, which proxies (lazy objects) answer by evaluating.
        if issubclass(cls, LazyObject):
            wrapped = value._wrapped
            if wrapped is empty:
                return f"<{cls.__name__} (not evaluated)>"
            return self._shape(wrapped, depth, seen)
        if depth >= self.max_depth:
            if issubclass(cls, (str, bytes, int, float)):
                return truncate(safe_repr(value), self.max_string)
            return DEPTH_MARK

        hook = _sentry_hook(value, cls)
        if hook is not None:
            try:
                result = hook()
            except Exception:
                return truncate(safe_repr(value), self.max_string)
            return self._shape(result, depth + 1, seen)

        if issubclass(cls, (bytes, bytearray, memoryview)):
            return truncate(
                decode_bytes(bytes(value[: self.max_string * 4])), self.max_string
            )
        if issubclass(cls, str):
            return truncate(str.__str__(value), self.max_string)
        if issubclass(cls, bool):
            return bool(value)
        if issubclass(cls, int):
            return self._shape(int(value), depth, seen)
        if issubclass(cls, float):
            return self._shape(float(value), depth, seen)
        if issubclass(cls, Promise):
            # Lazy translation strings: render them, never keep the proxy.
            return truncate(to_text(value), self.max_string)
        if issubclass(cls, QuerySet):
            # repr() would run the query; describe it instead.
            return f"<QuerySet of {value.model._meta.label}>"
        if issubclass(cls, Model):
            return truncate(_model_repr(value), self.max_string)

        if issubclass(cls, (Mapping, list, tuple, set, frozenset)):
            key = id(value)
            if key in seen:
                return CYCLE_MARK
            seen.add(key)
            try:
                if issubclass(cls, Mapping):
                    return self._shape_mapping(value, depth, seen)
                return self._shape_sequence(value, depth, seen)
            except Exception:
                return truncate(safe_repr(value), self.max_string)
            finally:
                seen.discard(key)

        # Generators, iterators, files, sockets...: describe, never consume.
        return truncate(safe_repr(value), self.max_string)

    def _shape_mapping(self, value, depth, seen):
        result = {}
        for index, (key, item) in enumerate(value.items()):
            if index >= self.max_list:
                result[TRUNCATION_MARK] = f"({len(value) - self.max_list} more items)"
                break
            name = key if type(key) is str else to_text(key)
            result[truncate(name, self.max_string)] = self._shape(item, depth + 1, seen)
        return result

    def _shape_sequence(self, value, depth, seen):
        if isinstance(value, (set, frozenset)):
            try:
                value = sorted(value, key=repr)
            except Exception:
                value = list(value)
        result = []
        for index, item in enumerate(value):
            if index >= self.max_list:
                result.append(
                    f"{TRUNCATION_MARK} ({len(value) - self.max_list} more items)"
                )
                break
            result.append(self._shape(item, depth + 1, seen))
        return result


def shape(value, **bounds):
    """Return ``value`` as bounded builtins (see :class:`Shaper`)."""
    return Shaper(**bounds)(value)


def truncate(text, max_length):
    """Cut ``text`` to ``max_length`` characters, marking the cut."""
    if max_length and len(text) > max_length:
        text = text[: max(max_length - len(TRUNCATION_MARK), 0)] + TRUNCATION_MARK
    if not text.isascii():
        text = valid_unicode(text)
    return text


def valid_unicode(text):
    """Replace lone surrogates, which no database can store, by U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Through UTF-16, paired surrogates become the character they encode
        # and lone ones the replacement character.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def big_int(value):
    """Return a huge int as text (Python refuses str() beyond 4300 digits)."""
    try:
        return str(value)
    except ValueError:
        return f"<int of {value.bit_length()} bits>"


def decode_bytes(data):
    """Decode bytes as UTF-8, or show them escaped when they are not text."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return repr(data)


def to_text(value):
    """Return ``str(value)``, or a description when that fails."""
    cls = type(value)
    if cls is str:
        return value
    try:
        if issubclass(cls, (bytes, bytearray)):
            return decode_bytes(bytes(value))
        text = str(value)
    except Exception:
        return safe_repr(value)
    if type(text) is not str:
        return safe_repr(value)
    return text


def safe_repr(value):
    """Return ``repr(value)``, or a description when ``repr`` misbehaves."""
    try:
        text = repr(value)
    except Exception:
        text = None
    if type(text) is not str:
        try:
            name = type(value).__qualname__
        except Exception:
            name = "object"
        return f"<unrepresentable {name} object>"
    return text


def _sentry_hook(value, cls):
    if issubclass(cls, type):
        return None
    try:
        hook = getattr(cls, "__sentry__", None)
    except Exception:
        return None
    if hook is None or not callable(hook):
        return None
    return types.MethodType(hook, value)


def _model_repr(instance):
    # str(instance) may run queries or raise; the label and key are enough.
    return f"<{instance._meta.label}: pk={instance.pk!r}>"
