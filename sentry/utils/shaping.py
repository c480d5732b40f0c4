"""
Turn arbitrary Python values into bounded, safe builtins.

Everything the app stores or sends goes through :func:`shape` first: the
result is made only of dict, list, str, int, float, bool and None, with every
string, collection and nesting level bounded, so that a hostile or enormous
value can neither break capture nor bloat the database.

The work is bounded too, so that a capture never stalls the host:

* containers built into Python (and their subclasses) are read through the
  builtin type's own iteration and length, never the subclass's, and only as
  far as the limits keep (a million-item set costs what fifty items cost);
* the code of other types (``__repr__``, ``__str__``, ``__sentry__``, a
  mapping's ``items()``) is called at most once per object and Shaper, which
  the client makes once per capture;
* with a ``deadline`` (the client's ``SENTRY_CAPTURE_TIME_LIMIT``), nothing is
  asked of other code past it: a value whose code was not asked before is
  shown by its type's name, a container not yet entered is cut (shown as
  :data:`CUT_MARK`) unless it is a root (a frame's variables), and
  :attr:`Shaper.cut` says so. The work left is then a few steps per item of
  the containers already entered. One call that started before the
  deadline still runs to its end: it cannot be interrupted.
"""

import array
import collections
import itertools
import math
import time
import types
from collections.abc import Mapping

from django.db.models import Model
from django.db.models.query import QuerySet
from django.utils.functional import LazyObject, Promise, empty

from ..conf import settings

TRUNCATION_MARK = "..."
CYCLE_MARK = "<cycle>"
DEPTH_MARK = "<max depth>"
#: Stands for what was not shaped before the capture's deadline.
CUT_MARK = "<cut: capture time limit>"
#: Listed in ``data["_truncated"]`` when a capture ran out of time.
CUT_LABEL = "values not captured within the capture time limit"
#: Integers beyond what databases and JSON parsers agree on become strings.
MAX_SAFE_INT = 2**53

#: Builtin containers, read through the builtin's own ``__iter__`` and
#: ``__len__`` (a subclass's may be slow, or lie): ``(type, iterate)``.
NATIVE_SEQUENCES = (
    (list, list.__iter__),
    (tuple, tuple.__iter__),
    (set, set.__iter__),
    (frozenset, frozenset.__iter__),
    (collections.deque, collections.deque.__iter__),
    (array.array, array.array.__iter__),
)
#: Views of a dict: not subclassable, and they iterate the dict's storage.
DICT_VIEWS = (type({}.keys()), type({}.values()), type({}.items()))
#: Exact types whose items sort without calling any other code.
SORTABLE = frozenset({int, float, str, bytes})


class Shaper:
    """
    Bounded, cycle-safe conversion of values to builtins.

    ``deadline`` is a :func:`time.monotonic` time past which no other code
    is called (None: no deadline). One Shaper serves one capture: it
    remembers what each object answered.
    """

    def __init__(self, max_string=None, max_list=None, max_depth=None, deadline=None):
        self.max_string = (
            max_string if max_string is not None else settings.MAX_LENGTH_STRING
        )
        self.max_list = max_list if max_list is not None else settings.MAX_LENGTH_LIST
        self.max_depth = max_depth if max_depth is not None else settings.MAX_DEPTH
        self.deadline = deadline
        #: Whether something was cut because the deadline had passed.
        self.cut = False
        # What other code answered, by object id and question. The object is
        # kept with its answer: while it lives, its id cannot be reused.
        self._answers = {}

    def __call__(self, value):
        return self._shape(value, 0, set())

    def expired(self):
        """Return whether the deadline has passed (and note that work is cut)."""
        if self.cut:
            return True
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.cut = True
        return self.cut

    def ask(self, value, question, call):
        """
        Return ``call(value)``, calling it at most once per object.

        Past the deadline, return a description of the value's type instead:
        its code is not called at all.
        """
        key = (id(value), question)
        known = self._answers.get(key)
        if known is not None:
            return known[1]
        answer = describe(value) if self.expired() else call(value)
        self._answers[key] = (value, answer)
        return answer

    def text(self, value, max_length=None):
        """Return ``value`` as a bounded str, whatever it is."""
        max_length = max_length or self.max_string
        cls = type(value)
        if cls is str:
            text = value
        elif issubclass(cls, str):
            # The characters themselves, never the subclass's __str__, and
            # only as many as are kept.
            text = str.__getitem__(value, slice(0, max_length + 1))
        elif issubclass(cls, (bytes, bytearray, memoryview)):
            text = decode_bytes(_bytes_prefix(value, cls, max_length * 4))
        elif issubclass(cls, (dict, *DICT_VIEWS)) or _native(cls):
            # str() would print every item: print what is kept instead.
            text = _printed(self(value), cls)
        else:
            text = self.ask(value, "str", to_text)
        return truncate(text, max_length)

    def repr(self, value):
        """Return ``repr(value)``, bounded, asked at most once per object."""
        return truncate(self.ask(value, "repr", safe_repr), self.max_string)

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
            if depth and self.expired():
                return CUT_MARK
            key = id(value)
            if key in seen:
                return CYCLE_MARK
            seen.add(key)
            try:
                if cls is dict:
                    return self._shape_items(
                        iter(value.items()), len(value), depth, seen
                    )
                return self._shape_sequence(iter(value), len(value), depth, seen)
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
        if issubclass(cls, (str, bytes, bytearray, memoryview)):
            return self.text(value)
        if issubclass(cls, bool):
            return bool(value)
        if issubclass(cls, int):
            # int.__int__, not int(): a subclass's __int__ is its own code.
            return self._shape(int.__int__(value), depth, seen)
        if issubclass(cls, float):
            return self._shape(float.__float__(value), depth, seen)
        if depth >= self.max_depth:
            return DEPTH_MARK

        hook = _sentry_hook(value, cls)
        if hook is not None:
            result = self.ask(value, "__sentry__", _call_hook(hook))
            if result is _HOOK_FAILED:
                return self.repr(value)
            return self._shape(result, depth + 1, seen)

        if issubclass(cls, Promise):
            # Lazy translation strings: render them, never keep the proxy.
            return self.text(value)
        if issubclass(cls, QuerySet):
            # repr() would run the query; describe it instead.
            return f"<QuerySet of {value.model._meta.label}>"
        if issubclass(cls, Model):
            return truncate(_model_repr(value), self.max_string)

        if issubclass(cls, (Mapping, *DICT_VIEWS)) or _native(cls):
            if depth and self.expired():
                return CUT_MARK
            key = id(value)
            if key in seen:
                return CYCLE_MARK
            seen.add(key)
            try:
                return self._shape_container(value, cls, depth, seen)
            except Exception:
                # Not its repr: that may read the whole container.
                return f"<unrepresentable {cls.__qualname__} object>"
            finally:
                seen.discard(key)

        # Generators, iterators, files, sockets...: describe, never consume.
        return self.repr(value)

    def _shape_container(self, value, cls, depth, seen):
        if issubclass(cls, dict):
            # The dict's own storage, whatever the subclass says of itself.
            return self._shape_items(
                iter(dict.items(value)), dict.__len__(value), depth, seen
            )
        if issubclass(cls, Mapping):
            # Another mapping's items() is its own code: asked once, and read
            # only as far as the limits keep, under the deadline.
            items = self.ask(value, "items", self._first_items)
            if type(items) is str:
                return truncate(items, self.max_string)
            result = self._shape_items(iter(items), None, depth, seen)
            if self.cut and TRUNCATION_MARK not in result:
                result[TRUNCATION_MARK] = CUT_MARK
            return result
        if issubclass(cls, DICT_VIEWS):
            return self._shape_sequence(iter(value), len(value), depth, seen)
        base, iterate = _native(cls)
        items = iterate(value)
        if base in (set, frozenset):
            items = self._sorted_sample(items)
        return self._shape_sequence(iter(items), base.__len__(value), depth, seen)

    def _first_items(self, mapping):
        try:
            items = []
            for item in mapping.items():
                # Each item may run the mapping's code: watch the deadline.
                if len(items) > self.max_list or self.expired():
                    break
                items.append(item)
            return items
        except Exception:
            return f"<unrepresentable {type(mapping).__qualname__} object>"

    def _sorted_sample(self, items):
        # Sets have no order of their own: sort what is kept when that calls
        # no other code, and sort only that (never the whole set).
        sample = list(itertools.islice(items, self.max_list + 1))
        if all(type(item) in SORTABLE for item in sample):
            try:
                sample.sort()
            except TypeError:
                pass
        return sample

    def _shape_items(self, items, total, depth, seen):
        result = {}
        for index, (key, item) in enumerate(items):
            if index >= self.max_list:
                more = f"{total - self.max_list} more items" if total else "more items"
                result[TRUNCATION_MARK] = f"({more})"
                break
            name = truncate(key, self.max_string) if type(key) is str else None
            if name is None:
                name = self.text(key)
            result[name] = self._shape(item, depth + 1, seen)
        return result

    def _shape_sequence(self, items, total, depth, seen):
        result = []
        for index, item in enumerate(items):
            if index >= self.max_list:
                more = f"{total - self.max_list} more items" if total else "more items"
                result.append(f"{TRUNCATION_MARK} ({more})")
                break
            result.append(self._shape(item, depth + 1, seen))
        return result


def shape(value, **bounds):
    """Return ``value`` as bounded builtins (see :class:`Shaper`)."""
    return Shaper(**bounds)(value)


def describe(value):
    """Return ``<TypeName object>``: what a value is, asking nothing of it."""
    try:
        name = type(value).__name__
    except Exception:
        name = "object"
    return f"<{name} object>"


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


def _printed(shaped, cls):
    """Return shaped builtins printed as Python prints a value of ``cls``."""
    if issubclass(cls, tuple) and type(shaped) is list:
        inside = ", ".join(repr(item) for item in shaped)
        return f"({inside},)" if len(shaped) == 1 else f"({inside})"
    return str(shaped)


def _native(cls):
    """Return ``(builtin type, its __iter__)`` for a builtin container type."""
    for base, iterate in NATIVE_SEQUENCES:
        if issubclass(cls, base):
            return base, iterate
    return None


def _bytes_prefix(value, cls, length):
    """Return the first ``length`` bytes, never asking a subclass for them."""
    if issubclass(cls, bytes):
        return bytes.__getitem__(value, slice(0, length))
    if issubclass(cls, bytearray):
        return bytes(bytearray.__getitem__(value, slice(0, length)))
    return bytes(value[:length])


#: What :func:`_call_hook` answers when a ``__sentry__`` hook raises.
_HOOK_FAILED = object()


def _call_hook(hook):
    def call(value):
        try:
            return hook()
        except Exception:
            return _HOOK_FAILED

    return call
