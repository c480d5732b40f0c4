"""
Query and form parameters of the dashboard, the API and the feeds, read strictly.

What a request names is text anyone can send. It is never handed to
``int()`` or to the database as it comes:

* a number is ASCII digits only (``str.isdigit()`` is true for ``"²"``, which
  ``int()`` refuses, and ``int()`` reads ``"٣"`` and ``" 3"``), and within a
  range every database can store;
* a value that no stored text can equal (one with a NUL, which PostgreSQL
  refuses in any text, or longer than its column) is known not to match
  without asking the database.

Callers decide what a bad value means: the dashboard shows its default, the
API answers 400, a filter matches nothing.
"""

#: The largest value of a signed 64-bit column (every backend's BIGINT).
MAX_BIGINT = 2**63 - 1


def parse_int(text, *, minimum=0, maximum=MAX_BIGINT):
    """Return ``text`` as an int if it is ASCII digits within the bounds, else None."""
    if not isinstance(text, str) or not text:
        return None
    # The length check keeps int() from reading a million digits.
    if len(text) > len(str(maximum)) or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def can_be_stored(text, max_length=None):
    """Return whether a text column could hold ``text`` (no NUL, not too long)."""
    if "\x00" in text:
        return False
    return max_length is None or len(text) <= max_length


class IdConverter:
    """
    A row id in a URL path: 1 to 18 ASCII digits, so always a 64-bit integer.

    Django's ``int`` converter takes any number of digits, and a 30-digit id
    overflows the database driver (a 500) instead of being a 404.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


def register_id_converter():
    """Register :class:`IdConverter` as ``sentry_id`` (once; for the URL modules)."""
    from django.urls import register_converter
    from django.urls.converters import get_converters

    if "sentry_id" not in get_converters():
        register_converter(IdConverter, "sentry_id")
