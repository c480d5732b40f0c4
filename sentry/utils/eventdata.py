"""
Shape an event's ``data`` along Sentry's layout.

A plain :class:`~sentry.utils.shaping.Shaper` bounds nesting from the root,
so ``data -> exception -> values -> [n] -> stacktrace -> frames`` would be cut
off at the frames. Here the known layout (exceptions, threads, stacks, frames,
breadcrumbs) is walked as such and only the free-form parts (each frame's
``vars``, ``extra``, ``contexts``, the request...) count towards the depth
limit, each from its own root, exactly as the in-process client shapes them.
Anything that does not fit the layout is dropped, so that the grouping and the
storage can rely on it.
"""

import itertools

from ..conf import settings
from .shaping import Shaper, to_text, truncate

#: Keys of ``data`` that hold a ``{"values": [...]}`` list of stacks.
STACK_LISTS = ("exception", "threads")
#: Marks a part that does not fit the layout.
_DROP = object()
#: Keys of ``data`` that must be dicts, or are dropped.
MAPPINGS = ("logentry", "request", "user", "tags", "contexts", "extra", "sdk")


class Parts:
    """
    Shape the free-form parts of event data, each from its own root.

    :func:`shape_event_data` walks the layout and hands every part it finds
    to these methods. :class:`sentry.jsondata.ScrubbedParts` scrubs them in
    the same walk.
    """

    def __init__(self, shaper):
        self.shaper = shaper

    def entry(self, key, value):
        """Return ``value``, found under ``key`` (in data, an exception, a frame)."""
        return self.shaper(value)

    def entries(self, items):
        """Return a dict of ``(key, value)`` pairs, each value from its own root."""
        max_string = self.shaper.max_string
        result = {}
        for key, value in items:
            key = truncate(to_text(key), max_string)
            result[key] = self.entry(key, value)
        return result

    def item(self, value):
        """Return ``value``, an entry of a list (a breadcrumb)."""
        return self.shaper(value)

    def text(self, key, value, max_length):
        """Return the text found under ``key``, cut to ``max_length``."""
        return truncate(value, max_length)


def shape_event_data(data, shaper=None, parts=None):
    """
    Return ``data`` as bounded builtins that follow the event layout.

    ``parts`` (a :class:`Parts`) shapes what the layout leaves free-form; by
    default, ``shaper`` does.
    """
    parts = parts or Parts(shaper or Shaper())
    shaper = parts.shaper
    if not isinstance(data, dict):
        return {}
    result = {}
    for index, (key, value) in enumerate(data.items()):
        if index >= max(shaper.max_list, 100):
            break
        key = truncate(to_text(key), shaper.max_string)
        if key in STACK_LISTS:
            value = _values(value, parts, _with_stack)
        elif key == "stacktrace":
            value = _stacktrace(value, parts)
        elif key == "breadcrumbs":
            value = _values(value, parts, _breadcrumb)
        elif key in MAPPINGS:
            value = parts.entry(key, value) if isinstance(value, dict) else _DROP
        else:
            value = parts.entry(key, value)
        if value is not _DROP:
            result[key] = value
    return result


def _values(value, parts, shape_item):
    if isinstance(value, dict):
        value = value.get("values")
    if not isinstance(value, list):
        return _DROP
    # The newest entries come last (the exception raised, the latest
    # breadcrumb): keep those.
    items = [shape_item(item, parts) for item in value[-parts.shaper.max_list :]]
    return {"values": [item for item in items if item is not _DROP]}


def _breadcrumb(value, parts):
    return parts.item(value) if isinstance(value, dict) else _DROP


def _with_stack(value, parts):
    """Shape an exception or a thread: its stack by the layout, the rest freely."""
    if not isinstance(value, dict):
        return _DROP
    max_string = parts.shaper.max_string
    result = {}
    for key, item in value.items():
        key = truncate(to_text(key), max_string)
        if key == "stacktrace":
            item = _stacktrace(item, parts)
        elif key == "value" and isinstance(item, str):
            # An exception's text may be long: allowed ten times as much.
            item = parts.text(key, item, max_string * 10)
        else:
            item = parts.entry(key, item)
        if item is not _DROP:
            result[key] = item
    return result


def _stacktrace(value, parts):
    if not isinstance(value, dict):
        return _DROP
    frames = value.get("frames")
    if not isinstance(frames, list):
        frames = []
    frames = [frame for frame in frames if isinstance(frame, dict)]
    omitted = 0
    max_frames = settings.MAX_FRAMES
    if max_frames and len(frames) > max_frames:
        # Keep both ends: where it started and where it failed.
        head = max_frames // 2
        omitted = len(frames) - max_frames
        frames = frames[:head] + frames[len(frames) - (max_frames - head) :]
    result = {"frames": [_frame(frame, parts) for frame in frames]}
    previous = value.get("frames_omitted")
    if type(previous) is int and previous > 0:
        omitted += previous
    if omitted:
        result["frames_omitted"] = omitted
    return result


def _frame(frame, parts):
    # Each value from its own root: ``vars`` keeps the whole depth budget.
    return parts.entries(
        itertools.islice(frame.items(), max(parts.shaper.max_list, 50))
    )
