"""
Shape and scrub event data parsed from JSON, in one walk.

The digest reads every event from JSON: its data is made of dict, list, str,
int, float, bool and None, without cycles. :func:`shape_and_scrub` returns
exactly what shaping (:func:`sentry.utils.eventdata.shape_event_data`) and
then scrubbing (:class:`sentry.scrubbing.Scrubber`) return -- the same
bounds, the same masks -- but walks the data once, and asks plain values
none of the questions a captured Python object needs (hooks, proxies,
cycles). Anything else found on the way (it cannot come from JSON) is handed
to the general :class:`~sentry.utils.shaping.Shaper` and scrubber, and so is
a key that the scrubber masks, which is rare. ``tests/test_jsondata.py``
pins the equivalence.
"""

import math
from itertools import islice

from .scrubbing import CODE, MIN_CARD_INT, MIN_TEXT_LENGTH, WALK
from .utils.eventdata import Parts, shape_event_data
from .utils.shaping import DEPTH_MARK, MAX_SAFE_INT, TRUNCATION_MARK, truncate

#: Keys of the containers that the layout builds (``data["exception"]
#: ["values"][n]["stacktrace"]["frames"]``...): the scrubber sees them as any
#: key. Should it mask one of them (``SENTRY_SCRUB_FIELDS``), the data is
#: shaped first and scrubbed afterwards, as everywhere else.
LAYOUT_KEYS = (
    "exception",
    "threads",
    "breadcrumbs",
    "values",
    "stacktrace",
    "frames",
    "frames_omitted",
)


def shape_and_scrub(data, shaper, scrubber):
    """Return ``scrubber(shape_event_data(data, shaper))`` for parsed JSON."""
    if any(scrubber.is_sensitive(key) for key in LAYOUT_KEYS):
        return scrubber(shape_event_data(data, shaper))
    return shape_event_data(data, parts=ScrubbedParts(shaper, scrubber))


class ScrubbedParts(Parts):
    """Shape the free-form parts of JSON event data, and scrub them."""

    def __init__(self, shaper, scrubber):
        super().__init__(shaper)
        self.scrubber = scrubber
        self.max_string = shaper.max_string
        self.max_list = shaper.max_list
        self.max_depth = shaper.max_depth

    def entry(self, key, value):
        # The layout hands keys over shaped: _entries keeps them as they are.
        return self._entries(((key, value),), 0).popitem()[1]

    def entries(self, items):
        return self._entries(items, 0)

    def item(self, value):
        return self._walk(value, 0)

    def text(self, key, value, max_length):
        return self.scrubber.entry(key, truncate(value, max_length))

    def _entries(self, items, depth):
        """
        Return a dict of ``(key, value)`` pairs, each value ``depth`` levels
        down its part, shaped and scrubbed as ``Scrubber.entry`` would.

        The loop that sees every value: texts and numbers are done in line.
        """
        scrubber, rules, text = self.scrubber, self.scrubber.rules, self.scrubber.text
        keys = scrubber.keys
        max_string = self.max_string
        result = {}
        for key, value in items:
            if type(key) is not str or len(key) > max_string or not key.isascii():
                key = self.shaper.text(key)
            rule = rules.get(key) or scrubber.rule(key)
            cls = type(value)
            if cls is str:
                if len(value) > max_string or not value.isascii():
                    value = truncate(value, max_string)
                if rule is WALK:
                    if len(value) >= MIN_TEXT_LENGTH:
                        value = text(value)
                elif rule is not CODE:
                    value = scrubber.entry(key, value)
            elif value is None or cls is bool or cls is int and _safe_int(value):
                if rule is not WALK and rule is not CODE:
                    value = scrubber.entry(key, value)
                elif rule is WALK and cls is int and abs(value) >= MIN_CARD_INT:
                    value = scrubber.walk(value)  # a card number as a number?
            elif rule is WALK:
                value = self._walk(value, depth)
            elif rule is CODE:
                value = self._shape(value, depth)
            else:
                # Masked whole, or in parts: rare, done as the scrubber does.
                value = scrubber.entry(key, self._shape(value, depth))
            if keys.get(key, key) is not None:
                key = scrubber.key_text(key)  # a secret, or not seen yet
            result[key] = value
        return result

    def _walk(self, value, depth):
        """Return ``value`` shaped and scrubbed, as ``Scrubber.walk`` would."""
        cls = type(value)
        if cls is str:
            if len(value) > self.max_string or not value.isascii():
                value = truncate(value, self.max_string)
            if len(value) >= MIN_TEXT_LENGTH:
                value = self.scrubber.text(value)
            return value
        if cls is dict:
            if depth >= self.max_depth:
                return DEPTH_MARK
            if len(value) <= self.max_list:
                return self._entries(value.items(), depth + 1)
            result = self._entries(islice(value.items(), self.max_list), depth + 1)
            more = f"({len(value) - self.max_list} more items)"
            result[TRUNCATION_MARK] = self.scrubber.entry(TRUNCATION_MARK, more)
            return result
        if cls is list:
            if depth >= self.max_depth:
                return DEPTH_MARK
            max_list = self.max_list
            result = [self._walk(item, depth + 1) for item in value[:max_list]]
            self.scrubber.mask_options(value, result)
            if len(value) > max_list:
                more = f"{TRUNCATION_MARK} ({len(value) - max_list} more items)"
                result.append(self.scrubber.text(more))
            return result
        if value is None or cls is bool:
            return value
        if cls is int and _safe_int(value):
            return value if abs(value) < MIN_CARD_INT else self.scrubber.walk(value)
        if cls is float and math.isfinite(value):
            return value
        # Huge ints, infinite floats, anything not from JSON.
        return self.scrubber.walk(self.shaper._shape(value, depth, set()))

    def _shape(self, value, depth):
        """Return ``value`` shaped only, as ``Shaper._shape`` would."""
        cls = type(value)
        if cls is str:
            if len(value) > self.max_string or not value.isascii():
                return truncate(value, self.max_string)
            return value
        if cls is list and depth < self.max_depth and len(value) <= self.max_list:
            # Source lines, mostly.
            return [self._shape(item, depth + 1) for item in value]
        return self.shaper._shape(value, depth, set())


def _safe_int(value):
    return -MAX_SAFE_INT <= value <= MAX_SAFE_INT
