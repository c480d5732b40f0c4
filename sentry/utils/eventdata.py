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

from ..conf import settings
from .shaping import Shaper, to_text, truncate

#: Keys of ``data`` that hold a ``{"values": [...]}`` list of stacks.
STACK_LISTS = ("exception", "threads")
#: Marks a part that does not fit the layout.
_DROP = object()
#: Keys of ``data`` that must be dicts, or are dropped.
MAPPINGS = ("logentry", "request", "user", "tags", "contexts", "extra", "sdk")


def shape_event_data(data, shaper=None):
    """Return ``data`` as bounded builtins that follow the event layout."""
    shaper = shaper or Shaper()
    if not isinstance(data, dict):
        return {}
    result = {}
    for index, (key, value) in enumerate(data.items()):
        if index >= max(shaper.max_list, 100):
            break
        key = truncate(to_text(key), shaper.max_string)
        if key in STACK_LISTS:
            value = _values(value, shaper, _with_stack)
        elif key == "stacktrace":
            value = _stacktrace(value, shaper)
        elif key == "breadcrumbs":
            value = _values(value, shaper, _breadcrumb)
        elif key in MAPPINGS:
            value = shaper(value) if isinstance(value, dict) else _DROP
        else:
            value = shaper(value)
        if value is not _DROP:
            result[key] = value
    return result


def _values(value, shaper, shape_item):
    if isinstance(value, dict):
        value = value.get("values")
    if not isinstance(value, list):
        return _DROP
    # The newest entries come last (the exception raised, the latest
    # breadcrumb): keep those.
    items = [shape_item(item, shaper) for item in value[-shaper.max_list :]]
    return {"values": [item for item in items if item is not _DROP]}


def _breadcrumb(value, shaper):
    return shaper(value) if isinstance(value, dict) else _DROP


def _with_stack(value, shaper):
    """Shape an exception or a thread: its stack by the layout, the rest freely."""
    if not isinstance(value, dict):
        return _DROP
    result = {}
    for key, item in value.items():
        key = truncate(to_text(key), shaper.max_string)
        if key == "stacktrace":
            item = _stacktrace(item, shaper)
        elif key == "value" and isinstance(item, str):
            # An exception's text may be long: allowed ten times as much.
            item = truncate(item, shaper.max_string * 10)
        else:
            item = shaper(item)
        if item is not _DROP:
            result[key] = item
    return result


def _stacktrace(value, shaper):
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
    result = {"frames": [_frame(frame, shaper) for frame in frames]}
    previous = value.get("frames_omitted")
    if type(previous) is int and previous > 0:
        omitted += previous
    if omitted:
        result["frames_omitted"] = omitted
    return result


def _frame(frame, shaper):
    # Each value from its own root: ``vars`` keeps the whole depth budget.
    return {
        truncate(to_text(key), shaper.max_string): shaper(value)
        for key, value in list(frame.items())[: max(shaper.max_list, 50)]
    }
