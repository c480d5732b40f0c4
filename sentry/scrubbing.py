"""
Mask secrets in event data before it is stored or sent.

Values are masked when their key looks sensitive (password, token, cookie,
pin...). Texts are masked where a sensitive name is assigned a value
(``password=x``, ``password = 'x'``, ``"password": "x"``, ``password: x``) and
where a value has the shape of a secret whatever its name: card numbers, US
social security numbers, well-known API tokens (AWS, GitHub, Slack, Stripe,
Google, SendGrid, npm, GitLab, OpenAI), JSON web tokens, PEM private keys,
``Bearer``/``Basic``/``Token`` credentials, webhook URLs and the password of
a ``user:password@`` URL. Query strings (and URLs) are masked parameter by
parameter and a ``cookies`` dict cookie by cookie; a ``Cookie`` or
``Authorization`` header is masked whole.

Everything here runs over client text in the request thread and in the
digest, so every search is linear in its input: no regular expression with
overlapping quantifiers runs over a whole text. Each pattern is either one
character class repeated (which consumes each character once), or a literal
anchor followed by a fixed number of single-class runs, starting only where a
run starts; whatever needs a choice is decided in Python over spans found
that way. ``tests/test_scrubbing.py`` guards each step with crafted worst
cases (:func:`tests.complexity.assert_linear`).
"""

import base64
import binascii
import json
import re
from urllib.parse import parse_qsl, urlencode

from django.core.signals import setting_changed
from django.dispatch import receiver

from .conf import settings

MASK = "********"

#: Patterns searched for in key names (case-insensitive). "auth" and "token"
#: stop short of "author" and "tokenizer", which are no secrets. Each is a
#: literal with at most a one-character option: searching a key for them is
#: linear in the key.
DEFAULT_FIELDS = (
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "pincode",
    "secret",
    r"token(?!iz)",
    r"api[-_]?key",
    r"auth(?!ors?(?![a-z]))",
    "credential",
    "session",
    "sessid",
    "csrf",
    "xsrf",
    "cookie",
    r"private[-_]?key",
    "signature",
    r"access[-_]?key",
    r"account[-_]?key",  # Azure storage connection strings
    r"sentry[-_]?key",
    r"subscription[-_]?key",
    r"licen[cs]e[-_]?key",
    "bearer",
    "jwt",
)
#: Short names masked only as a word of a key (``pin``, ``user_pin``,
#: ``pinCode``, ``connect.sid``), never inside one (``spinner``, ``pinned``,
#: ``inside``).
WORD_FIELDS = frozenset(
    {
        "pwd",
        "pw",
        "pass",
        "pin",
        "otp",
        "totp",
        "hotp",
        "sid",
        "ssn",
        "cvv",
        "cvc",
        "cvv2",
        "cvc2",
        "sig",
        "iban",
    }
)
#: Names masked as query parameters only (``?code=...`` of OAuth, ``?key=``
#: of Google APIs): elsewhere ``code`` and ``key`` are ordinary names.
QUERY_FIELDS = frozenset({"code", "key", "sig"})

#: The words of a key: runs of capitals, capitalised words, lowercase words,
#: digits (``PINCode`` -> PIN, Code; ``user_pin2`` -> user, pin, 2).
WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

#: Keys of a frame that hold code, never data: not worth a look. (And the
#: count of frames that shaping cut, which is never data either.)
CODE_KEYS = frozenset(
    {
        "frames_omitted",
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
#: Keys of URLs, whose query strings are scrubbed parameter by parameter (the
#: ``url`` of a request; the URLs of a browser's CSP report).
URL_KEYS = frozenset({"url", "document_uri", "blocked_uri", "source_file", "referrer"})
PARTWISE_KEYS = frozenset({"cookies", "query_string", "GET"}) | URL_KEYS
#: Shortest text that can hold anything to mask ("p=x" with an extra name).
MIN_TEXT_LENGTH = 3
#: Shortest text that can hold a secret of a known shape ("Basic " and 8
#: characters of base64), but for a URL's password.
MIN_SHAPE_LENGTH = 14
#: Shortest text that can hold a card number (13 digits), and an SSN.
MIN_CARD_LENGTH = 13
MIN_SSN_LENGTH = 11
MIN_IBAN_LENGTH = 15

#: How many texts with nothing to mask a scrubber remembers (see ``text``),
#: how many characters of them in all, and how many key verdicts.
MAX_CLEAN_TEXTS = 10_000
MAX_CLEAN_CHARS = 4_000_000
MAX_VERDICTS = 10_000

UNSEEN = object()

#: What :meth:`Scrubber.rule` says of a key: how its value is scrubbed.
WALK = "walk"  # like any value: walked, its texts searched
CODE = "code"  # kept as it is (CODE_KEYS)
PARTWISE = "partwise"  # masked in parts (PARTWISE_KEYS), or else masked whole
MASKED = "masked"  # a sensitive name: masked whole unless empty

# -- Assignments in text ----------------------------------------------------
# Read over the *reversed* text: a separator, then the name before it read
# backwards (skipping spaces, a closing quote, an escaping backslash). The
# pattern starts with a one-character class, so the search skips in C to
# each separator, and it ends with one greedy class: nothing after it can
# fail, so it never backtracks, and successive matches never overlap.
_REVERSED_ASSIGNMENT_RE = re.compile(r"([=:])[ \t]*['\"]?\\?([\w.-]+)")
#: The same, with ``%3D`` (an encoded ``=``, read backwards ``D3%``) as a
#: separator too: a URL inside a URL, a logged form body. Only used when a
#: text holds ``%3``: its first character is no longer rare (``d``).
_REVERSED_ENCODED_ASSIGNMENT_RE = re.compile(r"([=:]|[dD]3%)[ \t]*['\"]?\\?([\w.-]+)")
#: An encoded value: up to what ends a value, or an encoded ``&`` (``%26``).
#: Each step reads one character (the lookahead is fixed): linear.
_ENCODED_VALUE_RE = re.compile(r"(?:[^&\s'\",;%]|%(?!26))*")
_NAME_RE = re.compile(r"[\w.-]+")
_SPACE_RE = re.compile(r"\s")
_SPACES_RE = re.compile(r"[ \t]*")
#: An unquoted value: up to a space, a quote, ``&``, ``,`` or ``;``.
_VALUE_RE = re.compile(r"[^&\s'\",;]*")
#: The prefix of a Python string literal (``b'x'``, ``rb"x"``): the value is
#: the quoted text after it. One or two letters, then a lookahead: linear.
_STRING_PREFIX_RE = re.compile(r"(?:[bBrR]{1,2}|[uUfF])(?=['\"])")
#: A value that opens a container (Python's repr of a dict of lists, a
#: QueryDict): masked up to its closing bracket, or the end of the line.
_CLOSERS = {"[": "]", "(": ")", "{": "}"}
_BRACKETS_RE = {
    opener: re.compile(f"[\\{opener}\\{closer}\n]")
    for opener, closer in _CLOSERS.items()
}

#: A command-line option with a name, then its value after spaces, or after
#: ``', '`` in the repr of an argument list (``['--password', 'x']``). It
#: starts only where a run of name characters starts (the lookbehind) and
#: reads one run: linear.
_OPTION_RE = re.compile(r"(?<![\w-])--([\w-]+)(?:['\"], (?=['\"])|[ \t]+)")

# -- Shapes of secrets --------------------------------------------------------
# Each alternative starts where a run of token characters starts (the
# lookbehind), with a literal prefix, then a fixed number of single-class
# runs: an attempt reads one run (or three for a JWT) and the next attempt
# starts after a boundary, so the search is linear.
_SECRET_SHAPES_RE = re.compile(
    r"(?<![\w-])(?:"
    r"(?:AKIA|ASIA)[A-Z0-9]{16}"  # AWS access key ids
    r"|AIza[\w-]{35}"  # Google API keys
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|github_pat_\w{30,}"
    r"|xox[abposr]-[\w-]{10,}"  # Slack tokens
    r"|[rs]k_(?:live|test)_\w{10,}"  # Stripe secret and restricted keys
    r"|whsec_\w{10,}"  # Stripe webhook secrets
    r"|sk-[\w-]{20,}"  # OpenAI, Anthropic keys
    r"|SG\.[\w-]{16,}\.[\w-]{16,}"  # SendGrid
    r"|npm_\w{30,}"  # npm
    r"|glpat-[\w-]{20,}"  # GitLab
    r"|SK[0-9a-f]{32}"  # Twilio API keys
    r"|eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"  # JSON web tokens
    r")"
)
#: Cheap tests (in C) that a text may hold one of those shapes.
_SHAPE_MARKS = (
    "AKIA",
    "ASIA",
    "AIza",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xox",
    "k_live_",
    "k_test_",
    "whsec_",
    "sk-",
    "SG.",
    "npm_",
    "glpat-",
    "eyJ",
)
#: ``Bearer <token>``, ``Basic <base64>``, ``Token <token>`` in any text.
_SCHEME_RE = re.compile(r"\b(bearer|basic|token) +([\w.~+/=-]+)", re.IGNORECASE)
_SCHEME_MARKS = ("earer ", "EARER ", "asic ", "ASIC ", "oken ", "OKEN ")
#: Any of the marks above: one search of literals for the common case of a
#: text with none of them.
_MARKS_RE = re.compile(
    "|".join(
        re.escape(mark)
        for mark in (*_SHAPE_MARKS, *_SCHEME_MARKS, "://", "-----BEGIN", "hooks")
    )
    + "|SK[0-9a-f]{32}"
)
#: What follows ``://`` up to the end of a URL's authority, ``@`` included.
_AUTHORITY_RE = re.compile(r"[^/?#\s'\"<>]*")
#: The secret path of a webhook URL.
_WEBHOOK_RE = re.compile(
    r"(?:hooks\.slack\.com/(?:services|workflows|triggers)"
    r"|discord(?:app)?\.com/api/webhooks)/([\w/-]+)"
)
_PATH_RE = re.compile(r"[\w/-]*")

# -- Numbers -------------------------------------------------------------------
#: 13 or more digits, possibly grouped by single spaces or dashes. One digit
#: per step, and the separator before it is only taken when a digit follows:
#: the search reads a run once.
_DIGIT_RUN_RE = re.compile(r"\d(?:[ -]?\d){12,}")
_DIGITS_RE = re.compile(r"\d+")
#: What every card number has: a digit, then 12 digits, spaces or dashes
#: (fixed width: linear). Searched first, faster than the run above.
_CARD_HINT_RE = re.compile(r"\d[\d -]{12}")
#: Four digits in a row: every grouping of a card number has them. (Spelt
#: out, it is searched faster than ``\d{4}``.)
DIGIT_RUN_RE = re.compile(r"\d\d\d\d")
#: An IBAN written without spaces, standing alone: two capitals and two
#: digits (starting no longer word, the lookbehind), then 11 to 30 capitals
#: and digits. The run is bounded: the lookahead backtracks at most 19 times.
_IBAN_RE = re.compile(
    r"[A-Z][A-Z]\d\d(?<![A-Za-z0-9][A-Z][A-Z]\d\d)[A-Z0-9]{11,30}(?![A-Za-z0-9])"
)
#: A US social security number, standing alone (fixed width: linear).
_SSN_RE = re.compile(r"(?<![\w-])\d\d\d-\d\d-\d\d\d\d(?![\w-])")
_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_HEX = frozenset("0123456789abcdefABCDEF")
#: Card numbers start with 2 to 9: 13 to 19 digits starting with 1 are
#: epoch timestamps in milliseconds or microseconds, not cards.
_CARD_FIRST_DIGITS = frozenset("23456789")
MIN_CARD_INT = 2 * 10**12
MAX_CARD_INT = 10**19


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


def is_card_number(digits):
    """Say whether a string of 13 to 19 digits passes for a card number."""
    return (
        13 <= len(digits) <= 19 and digits[0] in _CARD_FIRST_DIGITS and luhn_ok(digits)
    )


def mask_cards(text):
    """Replace anything in ``text`` that passes for a card number."""
    spans = []
    _card_spans(text, spans)
    return _apply(text, spans)


def _card_spans(text, spans):
    if _CARD_HINT_RE.search(text) is None:
        return  # no 12 characters of a card after a digit: the common case
    for run in _DIGIT_RUN_RE.finditer(text):
        groups = [
            (m.start(), m.end())
            for m in _DIGITS_RE.finditer(text, run.start(), run.end())
        ]
        index = 0
        while index < len(groups):
            last = _card_at(text, groups, index)
            if last is None:
                index += 1
            else:
                spans.append((groups[index][0], groups[last][1]))
                index = last + 1


def _card_at(text, groups, first):
    """Return the last group of a card starting at group ``first``, or None."""
    start, end = groups[first]
    size = end - start
    if size > 19:
        return None
    if size >= 13:
        digits = text[start:end]
        if is_card_number(digits) and not _in_hex_word(text, start, end):
            return first
        return None
    # Grouped: four digits first, then groups of three or more (4-4-4-4,
    # 4-6-5, 4-4-4-4-3), the longest grouping that passes.
    if size < 4:
        return None
    found, total, parts = None, size, [text[start:end]]
    for index in range(first + 1, min(first + 5, len(groups))):
        start, end = groups[index]
        if end - start < 3:
            break
        total += end - start
        if total > 19:
            break
        parts.append(text[start:end])
        if total >= 13 and is_card_number("".join(parts)):
            found = index
    return found


def _in_hex_word(text, start, end):
    # Digits glued to letters are a card ("card4111..."), unless the letters
    # make a long hexadecimal identifier (a checksum, a message id) of which
    # the digits are a part. A bounded look on either side.
    before = text[max(0, start - 40) : start]
    after = text[end : end + 40]
    lead = before[len(before.rstrip(_ALNUM)) :]
    tail = after[: len(after) - len(after.lstrip(_ALNUM))]
    if not lead and not tail:
        return False
    word = lead + tail
    return len(word) + end - start >= 20 and all(char in _HEX for char in word)


def _ssn_spans(text, spans):
    spans.extend(m.span() for m in _SSN_RE.finditer(text))


def _iban_spans(text, spans):
    for match in _IBAN_RE.finditer(text):
        iban = match.group()
        # ISO 13616: the country and check digits moved to the end, letters
        # as numbers (A=10...), the whole is 1 modulo 97.
        number = "".join(str(int(char, 36)) for char in iban[4:] + iban[:4])
        if int(number) % 97 == 1:
            spans.append(match.span())


def _apply(text, spans):
    """Return ``text`` with each span masked (overlapping spans merged)."""
    if not spans:
        return text
    spans.sort()
    parts, last = [], 0
    for start, end in spans:
        if parts and start <= last:
            last = max(last, end)  # overlaps the span masked last
            continue
        parts.append(text[last:start])
        parts.append(MASK)
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _closing_quote(text, quote, start):
    """Return where ``quote`` closes after ``start`` (not escaped), or -1."""
    index = text.find(quote, start)
    if len(quote) == 2:  # \" inside a JSON string
        return index
    while index > start:
        # Escaped when an odd number of backslashes comes before it. Each run
        # of backslashes is counted once: the next search starts after it.
        before = index
        while before > start and text[before - 1] == "\\":
            before -= 1
        if (index - before) % 2 == 0:
            break
        index = text.find(quote, index + 1)
    return index


class Scrubber:
    """Walk shaped event data and mask what looks secret."""

    def __init__(self, fields=None):
        # Extra field names from the settings are plain substrings.
        extra = [str(name) for name in settings.SCRUB_FIELDS]
        patterns = list(fields or DEFAULT_FIELDS) + [re.escape(name) for name in extra]
        self.pattern = re.compile("|".join(patterns), re.IGNORECASE)
        # Extra names with characters that no name in a text is read with
        # ("my key", "=x") are looked for as they are, then a separator.
        # Each match reads one run of name characters after the literal,
        # which ends at the next such literal's odd character: linear.
        odd = [re.escape(name) for name in extra if not _NAME_RE.fullmatch(name)]
        self.odd_assignment = None
        if odd:
            self.odd_assignment = re.compile(
                rf"(?:{'|'.join(odd)})[\w.-]*['\"]?\\?[ \t]*([=:])", re.IGNORECASE
            )
        # The same few keys come back in every frame: decide each once.
        self.verdicts = {}
        self.rules = {}
        # Keys as they are stored: a secret used as a key (a cache of
        # sessions by token) is masked like any text. None: kept as it is.
        self.keys = {}
        # Names before a separator in a text, read backwards (see
        # _assignment_spans): may they be sensitive?
        self.reversed_verdicts = {}
        # Texts with nothing to mask. The occurrences of one error repeat
        # most of theirs (the traceback, headers, messages): searched once.
        self.clean_texts = set()
        self.clean_chars = 0

    def is_sensitive(self, key):
        verdict = self.verdicts.get(key)
        if verdict is None:
            name = str(key)
            verdict = self.pattern.search(name) is not None or any(
                word.lower() in WORD_FIELDS for word in WORD_RE.findall(name)
            )
            if len(self.verdicts) < MAX_VERDICTS:
                self.verdicts[key] = verdict
        return verdict

    def mask_options(self, value, items):
        """Mask in ``items`` (``value`` scrubbed) what follows a sensitive
        option of an argument list (``["mysql", "--password", "x"]``)."""
        for index in range(len(items) - 1):
            item = value[index]
            if type(item) is str and item[:2] == "--" and self.is_option(item):
                items[index + 1] = masked(items[index + 1])
        return items

    def is_option(self, item):
        """Say whether ``item`` (``--name``) is an option with a secret value."""
        return "=" not in item and self.is_sensitive(item)

    def is_sensitive_parameter(self, name):
        """Say whether a query parameter ``name`` hides a secret."""
        return self.is_sensitive(name) or str(name).lower() in QUERY_FIELDS

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
            if len(self.rules) < MAX_VERDICTS:
                self.rules[key] = rule
                # The key itself as stored, decided with its rule: the walks
                # find both at once (see key_text).
                if key not in self.keys:
                    self.keys[key] = self._scrubbed_key(key)
        return rule

    def key_text(self, key):
        """Return a dict's ``key`` as it is stored: scrubbed like a value."""
        scrubbed = self.keys.get(key, UNSEEN)
        if scrubbed is UNSEEN:
            scrubbed = self._scrubbed_key(key)
            if len(self.keys) < MAX_VERDICTS:
                self.keys[key] = scrubbed
        return key if scrubbed is None else scrubbed

    def _scrubbed_key(self, key):
        """Return ``key`` scrubbed, or None when it is kept as it is."""
        cls = type(key)
        if cls is str:
            if len(key) < MIN_SSN_LENGTH and not (
                "=" in key or ":" in key or "%" in key or "-" in key
            ):
                # Too short for any shape, and no assignment, encoded one,
                # option or URL in it: the name of a thing (most keys).
                return None
            scrubbed = self.text(key)
        elif cls is int:
            scrubbed = self.walk(key)
        else:
            return None
        return None if scrubbed == key else scrubbed

    def __call__(self, value, key=None):
        if key is not None and self.is_sensitive(key):
            return masked(value)
        return self.walk(value)

    def walk(self, value):
        """Return ``value`` scrubbed, whatever key it is found under."""
        cls = type(value)
        if cls is dict:
            rules, keys, clean = self.rules, self.keys, self.clean_texts
            result = {}
            for k, v in value.items():
                # The common entry, without a call: a key decided before,
                # kept as it is, walked into, holding a text seen clean.
                if (
                    type(v) is str
                    and rules.get(k) is WALK
                    and keys.get(k, UNSEEN) is None
                    and (len(v) < MIN_TEXT_LENGTH or v in clean)
                ):
                    result[k] = v
                else:
                    result[self.key_text(k)] = self.entry(k, v)
            return result
        if cls is list:
            return self.mask_options(value, [self.walk(item) for item in value])
        if cls is str:
            return self.text(value)
        if cls is int and MIN_CARD_INT <= abs(value) < MAX_CARD_INT:
            # A card number kept as an integer.
            return MASK if is_card_number(str(abs(value))) else value
        return value

    def text(self, value):
        """Mask secrets in a text: sensitive assignments and secret shapes."""
        if len(value) < MIN_TEXT_LENGTH or value in self.clean_texts:
            return value
        spans = []
        if "=" in value or ":" in value or "%3" in value:
            self._assignment_spans(value, spans)
        if "--" in value:
            for match in _OPTION_RE.finditer(value):
                if self.is_sensitive(match.group(1)):
                    span = _value_span(value, match.end())
                    if span is not None:
                        spans.append(span)
        if len(value) >= MIN_SHAPE_LENGTH:
            self._shape_spans(value, spans)
        elif "://" in value:
            _url_password_spans(value, spans)
        if len(value) >= MIN_SSN_LENGTH and DIGIT_RUN_RE.search(value) is not None:
            if len(value) >= MIN_CARD_LENGTH:
                _card_spans(value, spans)
            if "-" in value:
                _ssn_spans(value, spans)
            if len(value) >= MIN_IBAN_LENGTH:
                _iban_spans(value, spans)
        result = _apply(value, spans)
        # Only what came back as it went in: a text with nothing masked stays
        # the same object, as the caller always got it.
        if (
            result is value
            and len(self.clean_texts) < MAX_CLEAN_TEXTS
            and self.clean_chars < MAX_CLEAN_CHARS
        ):
            self.clean_texts.add(value)
            self.clean_chars += len(value)
        return result

    def _assignment_spans(self, text, spans):
        """Add the values of sensitive ``name=value`` pairs in ``text``."""
        if self.odd_assignment is not None:
            masked_until = 0
            for match in self.odd_assignment.finditer(text):
                if match.start() >= masked_until:
                    masked_until = _assigned(text, match.group(1), match.end(), spans)
        reversed_text = text[::-1]
        verdicts = self.reversed_verdicts
        pattern = _REVERSED_ASSIGNMENT_RE
        if "%3" in text:
            pattern = _REVERSED_ENCODED_ASSIGNMENT_RE
        for _, name in pattern.findall(reversed_text):
            verdict = verdicts.get(name)
            if verdict is None:
                verdict = self.is_sensitive_parameter(name[::-1])
                if len(verdicts) < MAX_VERDICTS:
                    verdicts[name] = verdict
            if verdict:
                break
        else:
            return  # no name that may be sensitive: the common case
        length = len(text)
        masked_until = 0
        for match in reversed(list(pattern.finditer(reversed_text))):
            name_start = length - match.end(2)
            if name_start < masked_until:
                continue  # inside a value masked already
            name = text[name_start : length - match.start(2)]
            sep = match.group(1)
            query = sep == "=" and name_start and text[name_start - 1] in "?&"
            if self.is_sensitive(name) or query and name.lower() in QUERY_FIELDS:
                after = length - match.start(1)
                if len(sep) == 3:  # %3D
                    end = _ENCODED_VALUE_RE.match(text, after).end()
                    if end > after:
                        spans.append((after, end))
                    masked_until = end
                elif sep == ":" and name.lower().endswith("authorization"):
                    # A header: "<scheme> <credentials>", any scheme (Digest,
                    # Negotiate, NTLM...) with its parameters, to the line end.
                    masked_until = _line_span(text, after, spans)
                else:
                    masked_until = _assigned(text, sep, after, spans)

    def _shape_spans(self, text, spans):
        """Add the secrets in ``text`` recognised by their shape."""
        if _MARKS_RE.search(text) is None:
            return  # the common case, found in one pass
        if any(mark in text for mark in _SHAPE_MARKS) or "SK" in text:
            spans.extend(m.span() for m in _SECRET_SHAPES_RE.finditer(text))
        if "://" in text:
            _url_password_spans(text, spans)
            if "hooks" in text:
                for match in _WEBHOOK_RE.finditer(text):
                    spans.append(match.span(1))
        if "-----BEGIN" in text:
            _private_key_spans(text, spans)
        if any(word in text for word in _SCHEME_MARKS):
            for match in _SCHEME_RE.finditer(text):
                if _is_credential(match.group(1).lower(), match.group(2)):
                    spans.append(match.span(2))

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
            # A cookie without a name (a bare value) cannot be told harmless.
            return {k: self.entry(k, v) if k else masked(v) for k, v in value.items()}
        if key in ("query_string", "GET") and type(value) is dict:
            return {
                k: masked(v) if self.is_sensitive_parameter(k) else self.entry(k, v)
                for k, v in value.items()
            }
        if key == "query_string" and type(value) is str:
            return self.query_string(value)
        if key in URL_KEYS and type(value) is str and "?" in value:
            base, _, query = value.partition("?")
            return f"{self.text(base)}?{self.query_string(query)}"
        # Of another type, it is what its name says.
        return self(value, key)

    def query_string(self, query):
        try:
            pairs = parse_qsl(query, keep_blank_values=True)
        except Exception:
            return MASK
        if not any(self.is_sensitive_parameter(name) for name, _ in pairs):
            return self.text(query)
        pairs = [
            (name, MASK if self.is_sensitive_parameter(name) else self.text(value))
            for name, value in pairs
        ]
        return urlencode(pairs, safe="*")


def _assigned(text, sep, after, spans):
    """Add the span of the value assigned after ``sep``; return its end."""
    if after < len(text) and text[after] in (">" if sep == "=" else ":/"):
        if sep == ":":
            return after  # "Auth::Token", "auth://": no assignment
        after += 1  # "password => x"
    span = _value_span(text, _SPACES_RE.match(text, after).end())
    if span is None:
        return after
    spans.append(span)
    return span[1]


def _line_span(text, after, spans):
    """Add the span from after ``after``'s spaces to the end of its line."""
    start = _SPACES_RE.match(text, after).end()
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    if text[end - 1 : end] == "\r":
        end -= 1
    if end > start:
        spans.append((start, end))
    return max(end, after)


def _value_span(text, start):
    """Return the span of the value that starts at ``start``, or None."""
    length = len(text)
    if start >= length:
        return None
    prefix = _STRING_PREFIX_RE.match(text, start)
    if prefix is not None:
        start = prefix.end()
    char = text[start]
    if char in _CLOSERS:
        return _bracketed_span(text, start)
    if char == "\\" and text[start + 1 : start + 2] in ("'", '"'):
        quote = text[start : start + 2]
    elif char in "'\"":
        quote = char
    else:
        end = _VALUE_RE.match(text, start).end()
        return (start, end) if end > start else None
    start += len(quote)
    close = _closing_quote(text, quote, start)
    stop = length if close < 0 else close
    newline = text.find("\n", start, stop)
    end = stop if newline < 0 else newline
    return (start, end) if end > start else None


def _bracketed_span(text, start):
    """Return the span inside the brackets that open at ``start``, or None.

    Brackets of the same kind are counted up to the matching one (quotes are
    not read: a bracket inside a string ends the value early, never late);
    the end of the line ends an unclosed value. Each character is read once,
    and the caller skips assignments inside the span it returns.
    """
    depth = 0
    end = len(text)
    for match in _BRACKETS_RE[text[start]].finditer(text, start):
        char = match.group()
        if char == "\n":
            end = match.start()
            break
        depth += 1 if char == text[start] else -1
        if depth == 0:
            end = match.start()
            break
    return (start + 1, end) if end > start + 1 else None


def _url_password_spans(text, spans):
    # "scheme://user:password@host": the password goes. The authority is
    # read once per "://" and the next search starts after it.
    position = text.find("://")
    while position >= 0:
        start = position + 3
        end = _AUTHORITY_RE.match(text, start).end()
        at = text.rfind("@", start, end)
        if at > 0:
            colon = text.find(":", start, at)
            if 0 <= colon < at - 1:
                spans.append((colon + 1, at))
        position = text.find("://", max(end, start))


def _private_key_spans(text, spans):
    # "-----BEGIN ... PRIVATE KEY-----" up to "-----END" (or the end of the
    # text, when it was cut): the key goes, the armour lines stay.
    position = text.find("-----BEGIN")
    while position >= 0:
        label_end = text.find("-----", position + 10, position + 80)
        if label_end < 0:
            position = text.find("-----BEGIN", position + 10)
            continue
        start = label_end + 5
        if "PRIVATE KEY" not in text[position:label_end]:
            position = text.find("-----BEGIN", start)
            continue
        end = text.find("-----END", start)
        if end < 0:
            end = len(text)
        if end > start:
            spans.append((start, end))
        position = text.find("-----BEGIN", end)


def _is_credential(scheme, value):
    if scheme == "basic":
        # user:password in base64.
        if len(value) < 8 or len(value) % 4:
            return False
        try:
            return b":" in base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return False
    has_digit = any(char.isdigit() for char in value)
    if scheme == "bearer":
        return len(value) >= 8 and (has_digit or not value.isalpha())
    return len(value) >= 16 and has_digit  # "Token <key>" (Django REST framework)


def masked(value):
    """Return the mask in place of ``value``, unless there is nothing to hide."""
    return MASK if value not in (None, "", [], {}) else value


def parse_body(body, content_type=""):
    """
    Return a request body as data the scrubber can mask by key.

    A JSON object or array, or a form, comes back parsed (so that
    ``"password": ...`` is masked by its key); anything else as the text it
    was, which is scrubbed as text.
    """
    if not isinstance(body, str):
        return body
    stripped = body.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except (ValueError, RecursionError):
            return body
    if (
        "=" in stripped
        and ("urlencoded" in content_type or not content_type)
        and _SPACE_RE.search(stripped) is None
    ):
        try:
            pairs = parse_qsl(stripped, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            return body
        result = {}
        for name, value in pairs:
            result.setdefault(name, []).append(value)
        return {k: v[0] if len(v) == 1 else v for k, v in result.items()}
    return body


def scrub(data):
    """Return ``data`` with secrets masked, unless ``SENTRY_SCRUB_DATA`` is off."""
    if not settings.SCRUB_DATA:
        return data
    return Scrubber()(data)


_process_scrubber = None


def process_scrubber():
    """
    Return the scrubber this process's own captures share.

    A site's errors repeat their keys (frames' variable names, headers) and
    most of their texts (tracebacks, source lines, messages): a scrubber
    kept for the life of the process decides each key once and searches
    each clean text once, where a new one per capture did it all again --
    half the cost of a repeated capture. What it remembers is bounded
    (:data:`MAX_VERDICTS`, :data:`MAX_CLEAN_TEXTS`, :data:`MAX_CLEAN_CHARS`)
    and depends only on the texts and ``SENTRY_SCRUB_FIELDS``: a change of
    that setting makes a new one. Its tables are only ever read and added
    to, so threads may share it.
    """
    global _process_scrubber
    scrubber = _process_scrubber
    if scrubber is None:
        scrubber = _process_scrubber = Scrubber()
    return scrubber


@receiver(setting_changed)
def _forget_process_scrubber(setting, **kwargs):
    global _process_scrubber
    if setting == "SENTRY_SCRUB_FIELDS":
        _process_scrubber = None
