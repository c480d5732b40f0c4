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
# Four digits in a row: every grouping of a card number has them. (Spelt
# out, it is searched faster than ``\d{4}``.)
DIGIT_RUN_RE = re.compile(r"\d\d\d\d")


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
    return CARD_RE.sub(_mask_card, text)


def _mask_card(match):
    digits = re.sub(r"[ -]", "", match.group())
    if 13 <= len(digits) <= 19 and luhn_ok(digits):
        return MASK
    return match.group()


#: Keys of a frame that hold code, never data: not worth a look.
CODE_KEYS = frozenset(
    {
        "pre_context",
        "post_context",
        "context_line",
        "abs_path",
        "filename",
        "module",
        "function",
        "lineno",
        "colno",
        "in_app",
    }
)
#: Keys whose values are masked in parts (see :meth:`Scrubber.entry`).
PARTWISE_KEYS = frozenset({"cookies", "query_string", "url"})
#: Shortest text that can hold a card number (13 digits).
MIN_CARD_LENGTH = 13

#: How many texts with nothing to mask a scrubber remembers (see ``text``).
MAX_CLEAN_TEXTS = 10_000

#: What :meth:`Scrubber.rule` says of a key: how its value is scrubbed.
WALK = "walk"  # like any value: walked, its texts searched
CODE = "code"  # kept as it is (CODE_KEYS)
PARTWISE = "partwise"  # masked in parts (PARTWISE_KEYS), or else masked whole
MASKED = "masked"  # a sensitive name: masked whole unless empty


class Scrubber:
    """Walk shaped event data and mask what looks secret."""

    def __init__(self, fields=None):
        # Extra field names from the settings are plain substrings.
        extra = [str(name) for name in settings.SCRUB_FIELDS]
        patterns = list(fields or DEFAULT_FIELDS) + [re.escape(name) for name in extra]
        self.pattern = re.compile("|".join(patterns), re.IGNORECASE)
        # "name=value" inside any text (query strings in a request's repr,
        # "password=..." in a message): mask the value of a sensitive name.
        names = "|".join(patterns)
        self.assignment = re.compile(
            rf"([\w.-]*(?:{names})[\w.-]*)=([^&\s'\",;]+)", re.IGNORECASE
        )
        # That search backtracks at every word: in a traceback with a few
        # "x = y" lines it takes a millisecond or more. Looking first for a
        # sensitive name anywhere takes a few microseconds, as a
        # case-sensitive search of the lowercased text -- which finds exactly
        # what the case-insensitive one finds when the text and the names
        # are ASCII (the default names are lowercase, and plain words).
        self.lowercase_names = None
        if fields is None and all(name.isascii() for name in extra):
            self.lowercase_names = re.compile(names.lower())
        # The same few keys come back in every frame: decide each once.
        self.verdicts = {}
        self.rules = {}
        # Texts with nothing to mask. The occurrences of one error repeat
        # most of theirs (the traceback, headers, messages): searched once.
        self.clean_texts = set()

    def is_sensitive(self, key):
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self.verdicts[key] = self.pattern.search(str(key)) is not None
        return verdict

    def rule(self, key):
        """Return how the value of a dict's ``key`` is scrubbed (``WALK``...)."""
        rule = self.rules.get(key)
        if rule is None:
            if key in CODE_KEYS:
                rule = CODE
            elif key in PARTWISE_KEYS:
                rule = PARTWISE
            elif self.is_sensitive(key):
                rule = MASKED
            else:
                rule = WALK
            self.rules[key] = rule
        return rule

    def __call__(self, value, key=None):
        if key is not None and self.is_sensitive(key):
            return masked(value)
        return self.walk(value)

    def walk(self, value):
        """Return ``value`` scrubbed, whatever key it is found under."""
        cls = type(value)
        if cls is dict:
            return {k: self.entry(k, v) for k, v in value.items()}
        if cls is list:
            return [self.walk(item) for item in value]
        if cls is str:
            return self.text(value)
        return value

    def text(self, value):
        """Mask card numbers and sensitive ``name=value`` pairs in a text."""
        if value in self.clean_texts:
            return value
        result = value
        if "=" in result and self._may_name_a_secret(result):
            result = self.assignment.sub(r"\1=" + MASK, result)
        if _has_digits(result):
            result = mask_cards(result)
        # Only what came back as it went in: a text that sub() copied without
        # masking anything stays a copy, as the caller always got it.
        if result is value and len(self.clean_texts) < MAX_CLEAN_TEXTS:
            self.clean_texts.add(value)
        return result

    def _may_name_a_secret(self, text):
        if self.lowercase_names is None or not text.isascii():
            return True
        return self.lowercase_names.search(text.lower()) is not None

    def entry(self, key, value):
        """Return ``value`` scrubbed as the value of ``key`` in a dict."""
        rule = self.rule(key)
        if rule is WALK:
            return self.walk(value)
        if rule is CODE:
            return value
        if rule is MASKED:
            return masked(value)
        # PARTWISE: mask the session and CSRF cookies, keep the harmless ones;
        # the same for the parameters of a query string.
        if key == "cookies" and type(value) is dict:
            return {k: self.entry(k, v) for k, v in value.items()}
        if key == "query_string" and type(value) is str:
            return self.query_string(value)
        if key == "url" and type(value) is str and "?" in value:
            base, _, query = value.partition("?")
            return f"{base}?{self.query_string(query)}"
        # Of another type, it is what its name says.
        return self(value, key)

    def query_string(self, query):
        try:
            pairs = parse_qsl(query, keep_blank_values=True)
        except Exception:
            return MASK
        if not any(self.is_sensitive(name) for name, _ in pairs):
            return mask_cards(query) if _has_digits(query) else query
        pairs = [
            (name, MASK if self.is_sensitive(name) else value) for name, value in pairs
        ]
        return urlencode(pairs, safe="*")


def masked(value):
    """Return the mask in place of ``value``, unless there is nothing to hide."""
    return MASK if value not in (None, "", [], {}) else value


def _has_digits(text):
    # A cheap pre-check in C: a card number needs a run of digits.
    return len(text) >= MIN_CARD_LENGTH and DIGIT_RUN_RE.search(text) is not None


def scrub(data):
    """Return ``data`` with secrets masked, unless ``SENTRY_SCRUB_DATA`` is off."""
    if not settings.SCRUB_DATA:
        return data
    return Scrubber()(data)
