"""
Read a search query into terms, or say which term cannot be read and why.

The language, term by term (terms are separated by spaces and ANDed)::

    word  "quoted words"              free text
    key:value  key:"quoted value"     a value of a key
    !key:value                        not that value
    key:prefix*  key:*suffix  key:*part*
    is:unresolved  is:resolved        the status (replaces the default)
    is:muted  !is:muted               muted now or not (replaces the default)
    has:key  !has:key                 seen with any value of the key
    firstSeen:-24h  lastSeen:-7d      relative dates (m, h, d, w)
    firstSeen:+7d                     longer ago than 7 days
    firstSeen:2026-12-01              that day (UTC)
    lastSeen:>2026-12-01T08:00        comparisons: > >= < <=

The scanner is written by hand and reads each character a bounded number of
times: the query is text anyone can send, so no backtracking regular
expression runs over it (design.md, trust boundaries). The query is bounded
in length (:data:`MAX_QUERY_LENGTH`) and in terms (:data:`MAX_TERMS`).
"""

from dataclasses import dataclass

from django.utils import timezone

from ..constants import LEVELS_BY_NAME, STATUS_RESOLVED, STATUS_UNRESOLVED
from ..params import can_be_stored, parse_int
from . import dates, keys

#: Longest query read, in characters (the stream's search box and ``q=``).
MAX_QUERY_LENGTH = 200
#: Most terms in one query: each is a condition (a subquery for a tag).
MAX_TERMS = 20

STATES = {"unresolved": STATUS_UNRESOLVED, "resolved": STATUS_RESOLVED}
#: The characters of a key: what SDK tag names use.
KEY_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
)
WILDCARD = "*"
LEVELS_TEXT = "debug, info, warning, error, fatal or a number"


class SearchError(ValueError):
    """A query the language cannot read: ``term`` (None: all of it) and ``reason``."""

    def __init__(self, term, reason):
        super().__init__(reason)
        self.term = term
        self.reason = reason


# --- terms -------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """Free text (a word, or quoted words kept together)."""

    text: str
    source: str


@dataclass(frozen=True)
class Match:
    """``key:value``. ``mode``: ``exact``, ``prefix``, ``suffix`` or ``contains``."""

    key: str
    value: str
    mode: str
    negated: bool
    source: str


@dataclass(frozen=True)
class Has:
    """``has:key``: seen with any value of ``key``."""

    key: str
    negated: bool
    source: str


@dataclass(frozen=True)
class Status:
    """``is:unresolved`` or ``is:resolved``."""

    status: int
    negated: bool
    source: str


@dataclass(frozen=True)
class Muted:
    """``is:muted``: muted now (``!is:muted``: not muted now)."""

    negated: bool
    source: str


@dataclass(frozen=True)
class Seen:
    """``firstSeen:`` / ``lastSeen:``: ``bounds`` are ``(lookup, datetime)`` pairs."""

    field: str
    bounds: tuple
    negated: bool
    source: str


@dataclass(frozen=True)
class Query:
    """The terms of a query, in the order written (all of them must hold)."""

    terms: tuple = ()

    def __bool__(self):
        return bool(self.terms)

    @property
    def words(self):
        """Return the free text, one entry per word or quoted phrase."""
        return [term.text for term in self.terms if isinstance(term, Word)]

    @property
    def names_status(self):
        """Return whether an ``is:`` term is there (it replaces the default)."""
        return any(isinstance(term, (Status, Muted)) for term in self.terms)


# --- reading -----------------------------------------------------------------


def parse(text, *, now=None, max_length=MAX_QUERY_LENGTH, max_terms=MAX_TERMS):
    """
    Return ``text`` read as a :class:`Query`; raise :class:`SearchError` if unreadable.

    ``now`` anchors relative dates (``-24h``); the current time by default.
    """
    text = text or ""
    if len(text) > max_length:
        raise SearchError(None, f"the query is longer than {max_length} characters")
    if not can_be_stored(text):
        raise SearchError(None, "the query holds a NUL character")
    now = now or timezone.now()
    terms = []
    for raw in scan(text):
        if len(terms) == max_terms:
            raise SearchError(None, f"the query has more than {max_terms} terms")
        terms.append(interpret(raw, now))
    return Query(tuple(terms))


@dataclass(frozen=True)
class Raw:
    """A term as scanned: ``key`` is None for free text."""

    source: str
    key: str | None
    value: str
    negated: bool = False
    quoted: bool = False


def scan(text):
    """Yield the :class:`Raw` terms of ``text``, left to right, in one pass."""
    n = len(text)
    i = 0
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        raw, i = _term(text, i, n)
        yield raw


def _term(text, start, n):
    """Return the term starting at ``start`` and the index just past it."""
    if text[start] == '"':
        value, end = _quoted(text, start, start, n)
        return Raw(text[start:end], None, value, quoted=True), end
    # A key runs up to a colon; a space or a quote first means free text.
    i = start
    while i < n and not text[i].isspace() and text[i] not in ':"':
        i += 1
    if i < n and text[i] == ":":
        name = text[start:i]
        negated = name.startswith("!")
        key = name[1:] if negated else name
        # "http://..." pasted from a page is text, not the key "http".
        if is_key(key) and not text.startswith("//", i + 1):
            if i + 1 < n and text[i + 1] == '"':
                value, end = _quoted(text, start, i + 1, n)
                return Raw(text[start:end], key, value, negated, quoted=True), end
            end = _word_end(text, i + 1, n)
            return Raw(text[start:end], key, text[i + 1 : end], negated), end
    end = _word_end(text, start, n)
    return Raw(text[start:end], None, text[start:end]), end


def _word_end(text, i, n):
    while i < n and not text[i].isspace():
        i += 1
    return i


def _quoted(text, term_start, start, n):
    r"""
    Return the text between the quote at ``start`` and its closing quote.

    ``\"`` is a quote and ``\\`` a backslash inside. The closing quote ends
    the term (which began at ``term_start``): a space or the end of the query
    must follow it.
    """
    parts = []
    i = start + 1
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in '"\\':
            parts.append(text[i + 1])
            i += 2
        elif char == '"':
            i += 1
            if i < n and not text[i].isspace():
                source = text[term_start : _word_end(text, i, n)]
                raise SearchError(
                    source,
                    f"'{source}' goes on after its closing quote; "
                    "put a space after the quote",
                )
            return "".join(parts), i
        else:
            parts.append(char)
            i += 1
    source = text[term_start:]
    raise SearchError(source, f"'{source}' has no closing quote")


def is_key(name):
    """Return whether ``name`` can be a key (letters, digits, ``_ . -``)."""
    return bool(name) and all(char in KEY_CHARACTERS for char in name)


def interpret(raw, now):
    """Return the term ``raw`` stands for; raise :class:`SearchError` if none."""
    source = raw.source
    if raw.key is None:
        if not raw.value:
            raise SearchError(
                source, f"'{source}' searches for nothing; put words in the quotes"
            )
        return Word(raw.value, source)
    key = keys.canonical(raw.key)
    value = raw.value
    if key == "has":
        if not value:
            raise SearchError(source, f"'{source}' names no key; write has:environment")
        if not is_key(value):
            raise SearchError(
                source,
                f"'{source}' names no key; a key is letters, digits, '_', '.' or '-'",
            )
        return Has(keys.canonical(value), raw.negated, source)
    if not value:
        raise SearchError(
            source, f"'{source}' has no value; write {_example(raw, key)}"
        )
    if key == "is":
        if value.lower() == "muted":
            return Muted(raw.negated, source)
        status = STATES.get(value.lower())
        if status is None:
            raise SearchError(
                source,
                f"'{source}' is not a state; use is:unresolved, is:resolved "
                "or is:muted",
            )
        return Status(status, raw.negated, source)
    if key in keys.DATES:
        try:
            bounds = dates.bounds(value, now)
        except OverflowError:
            raise SearchError(source, f"'{source}' is out of range") from None
        except ValueError:
            raise SearchError(
                source,
                f"'{source}' is not a date; write {raw.key}:-24h, "
                f"{raw.key}:2026-12-01 or {raw.key}:>2026-12-01T08:00",
            ) from None
        return Seen(keys.DATES[key], bounds, raw.negated, source)
    if key == "level":
        return Match(key, str(_level(value, source)), "exact", raw.negated, source)
    mode, value = _wildcards(raw, key, value)
    return Match(key, value, mode, raw.negated, source)


def _example(raw, key):
    """Return what the "no value" error suggests writing instead."""
    if key == "is":
        return "is:unresolved, is:resolved or is:muted"
    if key in keys.DATES:
        return f"{raw.key}:-24h or {raw.key}:2026-12-01"
    return f"{raw.key}:{keys.EXAMPLES.get(key, 'value')} or has:{raw.key}"


def _level(value, source):
    level = LEVELS_BY_NAME.get(value.lower())
    if level is None:
        level = parse_int(value, maximum=keys.MAX_LEVEL)
    if level is None:
        raise SearchError(source, f"'{source}' is not a level; use {LEVELS_TEXT}")
    return level


def _wildcards(raw, key, value):
    """Return ``(mode, value)``: a ``*`` first or last in a bare value is a wildcard."""
    if raw.quoted:
        return "exact", value  # quoted: a star is a star
    leading = value.startswith(WILDCARD)
    trailing = value.endswith(WILDCARD)
    inner = value[1 if leading else 0 : len(value) - 1 if trailing else len(value)]
    if not inner.strip(WILDCARD):
        raise SearchError(
            raw.source, f"'{raw.source}' matches any value; write has:{raw.key}"
        )
    if WILDCARD in inner:
        raise SearchError(
            raw.source,
            f"'{raw.source}' has a * inside its value; only a leading or trailing "
            "* is understood (quote the value to search for a *)",
        )
    if leading and trailing:
        return "contains", inner
    if leading:
        return "suffix", inner
    if trailing:
        return "prefix", inner
    return "exact", inner
