"""
Mask secrets in event data before it is stored or sent.

Values are masked when their key looks sensitive (password, token, cookie...)
or when the value itself looks like a payment card number. Query strings (and
URLs) are masked parameter by parameter and a ``cookies`` dict cookie by
cookie; a ``Cookie`` or ``Authorization`` header is masked whole.
"""

import re
from urllib.parse import parse_qsl, urlencode

from .conf import settings

MASK = "********"

#: Patterns searched for in key names (case-insensitive). "auth" and "token"
#: stop short of "author" and "tokenizer", which are no secrets.
DEFAULT_FIELDS = (
    "password",
    "passwd",
    "secret",
    r"token(?!iz)",
    r"api[-_]?key",
    r"auth(?!ors?(?![a-z]))",
    "credential",
    "session",
    "csrf",
    "cookie",
    r"private[-_]?key",
    "signature",
)

# 13 to 19 digits, optionally grouped by spaces or dashes.
CARD_RE = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


def luhn_ok(digits):
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def mask_cards(text):
    """Replace anything in ``text`` that passes for a card number."""

    def replace(match):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            return MASK
        return match.group()

    return CARD_RE.sub(replace, text)


class Scrubber:
    """Walk shaped event data and mask what looks secret."""

    def __init__(self, fields=None):
        # Extra field names from the settings are plain substrings.
        patterns = list(fields or DEFAULT_FIELDS)
        patterns += [re.escape(str(name)) for name in settings.SCRUB_FIELDS]
        self.pattern = re.compile("|".join(patterns), re.IGNORECASE)

    def is_sensitive(self, key):
        return self.pattern.search(str(key)) is not None

    def __call__(self, value, key=None):
        if key is not None and self.is_sensitive(key):
            return MASK if value not in (None, "", [], {}) else value
        if isinstance(value, dict):
            return {k: self._item(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, str):
            return mask_cards(value) if _has_digits(value) else value
        return value

    def _item(self, key, value):
        lowered = str(key).lower()
        if lowered == "cookies" and isinstance(value, dict):
            # Mask the session and CSRF cookies, keep the harmless ones.
            return {k: self._item(k, v) for k, v in value.items()}
        if lowered == "query_string" and isinstance(value, str):
            return self.query_string(value)
        if lowered == "url" and isinstance(value, str) and "?" in value:
            base, _, query = value.partition("?")
            return f"{base}?{self.query_string(query)}"
        return self(value, key)

    def query_string(self, query):
        try:
            pairs = parse_qsl(query, keep_blank_values=True)
        except Exception:
            return MASK
        if not any(self.is_sensitive(name) for name, _ in pairs):
            return mask_cards(query) if _has_digits(query) else query
        masked = [
            (name, MASK if self.is_sensitive(name) else value) for name, value in pairs
        ]
        return urlencode(masked, safe="*")


def _has_digits(text):
    # Cheap pre-check: card numbers need at least 13 digits.
    return sum(c.isdigit() for c in text[:4096]) >= 13 if len(text) >= 13 else False


def scrub(data):
    """Return ``data`` with secrets masked, unless ``SENTRY_SCRUB_DATA`` is off."""
    if not settings.SCRUB_DATA:
        return data
    return Scrubber()(data)
