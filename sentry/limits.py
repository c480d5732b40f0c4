"""
Bound the size of one occurrence.

Shaping bounds every value, but fifty frames of fifty variables each can
still add up. When an occurrence's data is larger than
``SENTRY_MAX_EVENT_SIZE`` bytes (pickled, before compression), the least
useful parts go first, step by step, and ``data["_truncated"]`` lists what
went, so that the dashboard can say so.
"""

import pickle

from .conf import settings

#: Frames (counted from the failing one) whose variables are kept longest.
INNER_FRAMES = 5
DROPPED = "<dropped: the event was too large>"


def size_of(data):
    try:
        return len(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        return 0


def _frames(data):
    exception = data.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else None
    for value in values if isinstance(values, list) else ():
        stack = value.get("stacktrace") if isinstance(value, dict) else None
        frames = stack.get("frames") if isinstance(stack, dict) else None
        if isinstance(frames, list):
            yield frames  # the list itself: keep_few_frames cuts it


def _dicts(frames):
    return (frame for frame in frames if isinstance(frame, dict))


def _outer_frames(data):
    for frames in _frames(data):
        yield from _dicts(frames[:-INNER_FRAMES])


def drop_outer_vars(data):
    for frame in _outer_frames(data):
        frame.pop("vars", None)


def drop_outer_context(data):
    for frame in _outer_frames(data):
        frame.pop("pre_context", None)
        frame.pop("post_context", None)


def drop_sections(data):
    for key in ("extra", "breadcrumbs", "contexts", "modules"):
        if key in data:
            data[key] = DROPPED
    request = data.get("request")
    if isinstance(request, dict):
        for key in ("data", "POST", "cookies", "env"):
            if key in request:
                request[key] = DROPPED


def drop_all_vars(data):
    for frames in _frames(data):
        for frame in _dicts(frames):
            frame.pop("vars", None)


def keep_few_frames(data):
    for frames in _frames(data):
        if len(frames) > 2 * INNER_FRAMES:
            frames[INNER_FRAMES:-INNER_FRAMES] = []


def drop_everything_else(data):
    kept = {"exception", "logentry", "tags", "_truncated"}
    for key in list(data):
        if key not in kept:
            data[key] = DROPPED


STEPS = (
    (drop_outer_vars, "variables of outer frames"),
    (drop_outer_context, "source context of outer frames"),
    (drop_sections, "extra data, breadcrumbs, contexts and request body"),
    (drop_all_vars, "all variables"),
    (keep_few_frames, "frames"),
    (drop_everything_else, "everything but the exception"),
)


def enforce_size(data, limit=None):
    """Return ``data`` cut down to ``limit`` bytes (``SENTRY_MAX_EVENT_SIZE``)."""
    limit = settings.MAX_EVENT_SIZE if limit is None else limit
    if not limit or size_of(data) <= limit:
        return data
    truncated = data.setdefault("_truncated", [])
    for step, label in STEPS:
        step(data)
        truncated.append(label)
        if size_of(data) <= limit:
            break
    return data
