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
from django.utils.functional import Promise

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
            return value if -MAX_SAFE_INT <= value <= MAX_SAFE_INT else str(value)
        if cls is float:
            return value if math.isfinite(value) else repr(value)
        if depth >= self.max_depth:
            return (
                truncate(safe_repr(value), self.max_string)
                if _is_scalar(value)
                else DEPTH_MARK
            )

        hook = _sentry_hook(value)
        if hook is not None:
            try:
                result = hook()
            except Exception:
                return truncate(safe_repr(value), self.max_string)
            return self._shape(result, depth + 1, seen)

        if isinstance(value, (bytes, bytearray, memoryview)):
            return truncate(
                decode_bytes(bytes(value[: self.max_string * 4])), self.max_string
            )
        if isinstance(value, str):
            return truncate(str.__str__(value), self.max_string)
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return self._shape(int(value), depth, seen)
        if isinstance(value, float):
            return self._shape(float(value), depth, seen)
        if isinstance(value, Promise):
            # Lazy translation strings: render them, never keep the proxy.
            return truncate(to_text(value), self.max_string)
        if isinstance(value, QuerySet):
            # repr() would run the query; describe it instead.
            return f"<QuerySet of {value.model._meta.label}>"
        if isinstance(value, Model):
            return truncate(_model_repr(value), self.max_string)

        if isinstance(value, (Mapping, list, tuple, set, frozenset)):
            key = id(value)
            if key in seen:
                return CYCLE_MARK
            seen.add(key)
            try:
                if isinstance(value, Mapping):
                    return self._shape_mapping(value, depth, seen)
                return self._shape_sequence(value, depth, seen)
            except Exception:
                return truncate(safe_repr(value), self.max_string)
            finally:
                seen.discard(key)

        # Generators, iterators, files, lazy objects...: describe, never consume.
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
        return text[: max(max_length - len(TRUNCATION_MARK), 0)] + TRUNCATION_MARK
    return text


def decode_bytes(data):
    """Decode bytes as UTF-8, or show them escaped when they are not text."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return repr(data)


def to_text(value):
    """Return ``str(value)``, or a description when that fails."""
    if type(value) is str:
        return value
    if isinstance(value, (bytes, bytearray)):
        return decode_bytes(bytes(value))
    try:
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


def _sentry_hook(value):
    if isinstance(value, type):
        return None
    try:
        hook = getattr(type(value), "__sentry__", None)
    except Exception:
        return None
    if hook is None or not callable(hook):
        return None
    return types.MethodType(hook, value)


def _is_scalar(value):
    return isinstance(value, (str, bytes, int, float))


def _model_repr(instance):
    # str(instance) may run queries or raise; the label and key are enough.
    return f"<{instance._meta.label}: pk={instance.pk!r}>"
