"""The search language: what each term reads as, and every error it can give."""

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentry.search import (
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    Has,
    Match,
    SearchError,
    Seen,
    Status,
    Word,
    parse,
)
from sentry.search.grammar import scan
from tests.complexity import assert_linear

NOW = dt.datetime(2026, 12, 7, 12, 30, tzinfo=dt.UTC)
UTC = dt.UTC


def terms(text):
    return list(parse(text, now=NOW).terms)


def error_of(text):
    with pytest.raises(SearchError) as caught:
        parse(text, now=NOW)
    return caught.value.term, caught.value.reason


# --- free text ---------------------------------------------------------------


def test_words_are_free_text_each_its_own_term():
    assert terms("card  declined") == [
        Word("card", "card"),
        Word("declined", "declined"),
    ]


def test_quoted_words_stay_together():
    assert terms('"card declined" shop') == [
        Word("card declined", '"card declined"'),
        Word("shop", "shop"),
    ]


def test_a_quote_and_a_backslash_can_be_quoted():
    [word] = terms(r'"say \"hi\" \\ bye"')

    assert word.text == 'say "hi" \\ bye'


def test_an_empty_query_has_no_terms():
    assert parse("", now=NOW).terms == ()
    assert parse("   \t ", now=NOW).terms == ()
    assert not parse(None, now=NOW)


def test_a_pasted_url_is_text_not_a_key():
    assert terms("https://shop.example/cart?x=1") == [
        Word("https://shop.example/cart?x=1", "https://shop.example/cart?x=1")
    ]


def test_a_word_with_characters_no_key_has_is_text():
    assert [term.text for term in terms("divide(a:b) 100% :x")] == [
        "divide(a:b)",
        "100%",
        ":x",
    ]


def test_a_lone_bang_or_a_bang_word_is_text():
    assert [term.text for term in terms("! !important")] == ["!", "!important"]


# --- key:value ----------------------------------------------------------------


def test_a_key_and_its_value():
    assert terms("environment:staging") == [
        Match("environment", "staging", "exact", False, "environment:staging")
    ]


def test_a_quoted_value_keeps_its_spaces():
    assert terms('release:"2026 winter"') == [
        Match("release", "2026 winter", "exact", False, 'release:"2026 winter"')
    ]


def test_a_bang_negates_the_term():
    assert terms("!environment:production") == [
        Match("environment", "production", "exact", True, "!environment:production")
    ]


def test_a_value_may_hold_colons():
    [term] = terms("url:https://shop.example/cart")

    assert (term.key, term.value) == ("url", "https://shop.example/cart")


@pytest.mark.parametrize(
    ("text", "mode", "value"),
    [
        ("release:1.2*", "prefix", "1.2"),
        ("url:*/cart", "suffix", "/cart"),
        ("url:*checkout*", "contains", "checkout"),
        ("url:checkout", "exact", "checkout"),
    ],
)
def test_a_leading_or_trailing_star_is_a_wildcard(text, mode, value):
    [term] = terms(text)

    assert (term.mode, term.value) == (mode, value)


def test_a_star_in_quotes_is_a_star():
    [term] = terms('url:"*checkout*"')

    assert (term.mode, term.value) == ("exact", "*checkout*")


def test_named_keys_are_read_in_any_case_and_tag_keys_as_written():
    assert [term.key for term in terms("LEVEL:error Server:web-1 Tenant:acme")] == [
        "level",
        "server",
        "Tenant",
    ]


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("level:debug", "10"),
        ("level:info", "20"),
        ("level:warning", "30"),
        ("level:warn", "30"),
        ("level:ERROR", "40"),
        ("level:fatal", "50"),
        ("level:critical", "50"),
        ("level:35", "35"),
    ],
)
def test_levels_are_read_by_name_or_number(text, level):
    [term] = terms(text)

    assert (term.key, term.value) == ("level", level)


# --- is:, has: -----------------------------------------------------------------


def test_is_names_a_status():
    assert terms("is:resolved !is:unresolved") == [
        Status(1, False, "is:resolved"),
        Status(0, True, "!is:unresolved"),
    ]
    assert parse("is:Resolved x", now=NOW).names_status
    assert not parse("resolved x", now=NOW).names_status


def test_has_names_a_key():
    assert terms("has:user.email !has:release") == [
        Has("user.email", False, "has:user.email"),
        Has("release", True, "!has:release"),
    ]


# --- dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "since"),
    [
        ("firstSeen:-30m", dt.timedelta(minutes=30)),
        ("firstSeen:-1h", dt.timedelta(hours=1)),
        ("firstSeen:-24h", dt.timedelta(hours=24)),
        ("firstSeen:-7d", dt.timedelta(days=7)),
        ("firstSeen:-2w", dt.timedelta(weeks=2)),
    ],
)
def test_a_relative_date_is_within_that_long_before_now(text, since):
    assert terms(text) == [Seen("first_seen", (("gte", NOW - since),), False, text)]


def test_a_plus_is_longer_ago_than():
    [term] = terms("lastSeen:+7d")

    assert (term.field, term.bounds) == ("last_seen", (("lt", NOW - dt.timedelta(7)),))


def test_a_date_is_that_whole_day_in_utc():
    [term] = terms("firstseen:2026-12-01")

    assert term.bounds == (
        ("gte", dt.datetime(2026, 12, 1, tzinfo=UTC)),
        ("lt", dt.datetime(2026, 12, 2, tzinfo=UTC)),
    )


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("2026-12-01T08:00", dt.datetime(2026, 12, 1, 8, tzinfo=UTC)),
        ("2026-12-01T08:00:30Z", dt.datetime(2026, 12, 1, 8, 0, 30, tzinfo=UTC)),
        ("2026-12-01T09:00+01:00", dt.datetime(2026, 12, 1, 8, tzinfo=UTC)),
    ],
)
def test_a_date_and_time_is_from_then_on(value, moment):
    [term] = terms(f"lastSeen:{value}")

    assert term.bounds == (("gte", moment),)


@pytest.mark.parametrize(
    ("operator", "lookup"), [(">", "gt"), (">=", "gte"), ("<", "lt"), ("<=", "lte")]
)
def test_dates_compare(operator, lookup):
    [absolute] = terms(f"firstSeen:{operator}2026-12-01")
    [relative] = terms(f"firstSeen:{operator}-7d")

    assert absolute.bounds == ((lookup, dt.datetime(2026, 12, 1, tzinfo=UTC)),)
    assert relative.bounds == ((lookup, NOW - dt.timedelta(days=7)),)


def test_relative_dates_count_from_the_current_time_by_default():
    [term] = parse("lastSeen:-1h").terms
    ((_, since),) = term.bounds

    assert abs(since - (dt.datetime.now(UTC) - dt.timedelta(hours=1))) < dt.timedelta(
        minutes=1
    )


# --- several terms ------------------------------------------------------------------


def test_terms_come_in_the_order_written():
    query = parse('"card declined" environment:prod is:resolved has:release x', now=NOW)

    assert [type(term) for term in query.terms] == [Word, Match, Status, Has, Word]
    assert query.words == ["card declined", "x"]


def test_the_most_terms_are_read():
    assert len(terms(" ".join(["x"] * MAX_TERMS))) == MAX_TERMS


# --- errors: each says which term and why --------------------------------------------


@pytest.mark.parametrize(
    ("text", "term", "reason"),
    [
        (
            "environment:",
            "environment:",
            "'environment:' has no value; "
            "write environment:production or has:environment",
        ),
        (
            "x !release:",
            "!release:",
            "'!release:' has no value; write release:1.0.0 or has:release",
        ),
        (
            "KeyError: boom",
            "KeyError:",
            "'KeyError:' has no value; write KeyError:value or has:KeyError",
        ),
        (
            'tenant:""',
            'tenant:""',
            "'tenant:\"\"' has no value; write tenant:value or has:tenant",
        ),
        (
            "is:",
            "is:",
            "'is:' has no value; write is:unresolved, is:resolved or is:muted",
        ),
        (
            "firstSeen:",
            "firstSeen:",
            "'firstSeen:' has no value; write firstSeen:-24h or firstSeen:2026-12-01",
        ),
        (
            "is:ignored",
            "is:ignored",
            "'is:ignored' is not a state; use is:unresolved, is:resolved or is:muted",
        ),
        ("has:", "has:", "'has:' names no key; write has:environment"),
        (
            "has:env*",
            "has:env*",
            "'has:env*' names no key; a key is letters, digits, '_', '.' or '-'",
        ),
        (
            'x "card declined',
            '"card declined',
            "'\"card declined' has no closing quote",
        ),
        (
            'release:"1.0',
            'release:"1.0',
            "'release:\"1.0' has no closing quote",
        ),
        (
            '"card"declined',
            '"card"declined',
            "'\"card\"declined' goes on after its closing quote; "
            "put a space after the quote",
        ),
        ('""', '""', "'\"\"' searches for nothing; put words in the quotes"),
        (
            "level:loud",
            "level:loud",
            "'level:loud' is not a level; "
            "use debug, info, warning, error, fatal or a number",
        ),
        (
            "level:err*",
            "level:err*",
            "'level:err*' is not a level; "
            "use debug, info, warning, error, fatal or a number",
        ),
        (
            f"level:{2**31}",
            f"level:{2**31}",
            f"'level:{2**31}' is not a level; "
            "use debug, info, warning, error, fatal or a number",
        ),
        ("url:*", "url:*", "'url:*' matches any value; write has:url"),
        ("url:**", "url:**", "'url:**' matches any value; write has:url"),
        (
            "url:a*b",
            "url:a*b",
            "'url:a*b' has a * inside its value; only a leading or trailing * is "
            "understood (quote the value to search for a *)",
        ),
        (
            "firstSeen:yesterday",
            "firstSeen:yesterday",
            "'firstSeen:yesterday' is not a date; write firstSeen:-24h, "
            "firstSeen:2026-12-01 or firstSeen:>2026-12-01T08:00",
        ),
        (
            "lastSeen:-3y",
            "lastSeen:-3y",
            "'lastSeen:-3y' is not a date; write lastSeen:-24h, "
            "lastSeen:2026-12-01 or lastSeen:>2026-12-01T08:00",
        ),
        (
            "lastSeen:2026-13-01",
            "lastSeen:2026-13-01",
            "'lastSeen:2026-13-01' is not a date; write lastSeen:-24h, "
            "lastSeen:2026-12-01 or lastSeen:>2026-12-01T08:00",
        ),
        (
            "lastSeen:-1234567d",
            "lastSeen:-1234567d",
            "'lastSeen:-1234567d' is not a date; write lastSeen:-24h, "
            "lastSeen:2026-12-01 or lastSeen:>2026-12-01T08:00",
        ),
        (
            "lastSeen:-999999w",
            "lastSeen:-999999w",
            "'lastSeen:-999999w' is out of range",
        ),
        (
            "x" * (MAX_QUERY_LENGTH + 1),
            None,
            f"the query is longer than {MAX_QUERY_LENGTH} characters",
        ),
        ("card\x00", None, "the query holds a NUL character"),
        (
            " ".join(["x"] * (MAX_TERMS + 1)),
            None,
            f"the query has more than {MAX_TERMS} terms",
        ),
    ],
)
def test_a_query_that_cannot_be_read_says_which_term_and_why(text, term, reason):
    assert error_of(text) == (term, reason)


@pytest.mark.parametrize(
    "text",
    ["firstSeen:9999-12-31", "lastSeen:>0001-01-01T00:00+14:00", "lastSeen:<-999999w"],
)
def test_a_date_past_the_calendar_is_out_of_range(text):
    assert error_of(text) == (text, f"'{text}' is out of range")


def test_the_documented_error_messages_are_the_ones_given():
    page = (Path(__file__).parent.parent / "docs" / "dashboard.rst").read_text()
    table = page.split("Query                       Message")[1].split("\n\n")[0]
    rows = []
    for line in table.splitlines()[2:-1]:
        query, message = line[:28].strip(), line[28:].strip()
        if query == "(occurrences)":
            rows[-1][0] = query  # said of occurrences only (test_search_apply)
            rows[-1][1] += " " + message
        elif query:
            rows.append([query, message])
        else:
            rows[-1][1] += " " + message
    documented = {
        query[2:-2]: message.replace("\\*", "*")
        for query, message in rows
        if query.startswith("``") and query.endswith("``")
    }

    assert len(documented) == 14
    for query, message in documented.items():
        assert error_of(query)[1] == message


def test_the_error_reads_as_its_reason():
    with pytest.raises(SearchError) as caught:
        parse("environment:", now=NOW)

    assert str(caught.value) == caught.value.reason


def test_the_first_term_that_cannot_be_read_is_named():
    assert error_of("is:ignored environment:")[0] == "is:ignored"


# --- hostile input ------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=MAX_QUERY_LENGTH + 20))
def test_any_text_is_read_or_refused_with_a_search_error(text):
    try:
        query = parse(text, now=NOW)
    except SearchError as exc:
        assert exc.reason
    else:
        assert len(query.terms) <= MAX_TERMS


#: The grammar's own pieces, and values near its bounds: hostile queries are
#: made of these (here and against the database in test_search_apply).
PIECES = [
    '"',
    "\\",
    ":",
    "!",
    "*",
    " ",
    "is",
    "has",
    "level",
    "firstSeen",
    "lastSeen",
    "-",
    "+",
    ">",
    "<",
    "=",
    "7d",
    "999999w",
    "2026-12-01",
    "0001-01-01",
    "9999-12-31",
    "T00:00",
    "+14:00",
    "environment",
    "url",
    "user.ip",
    "server",
    "x",
    "%",
    "_",
    "é",
    "\ufffd",
    "'",
    ";",
    "2147483648",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(PIECES + ["T", "\t"]),
        max_size=40,
    )
)
def test_text_made_of_the_grammar_s_own_pieces_is_read_or_refused(pieces):
    text = "".join(pieces)
    try:
        parse(text, now=NOW)
    except SearchError as exc:
        assert exc.reason


def unbounded(text):
    return parse(text, now=NOW, max_length=len(text), max_terms=len(text))


@pytest.mark.parametrize(
    "unit",
    [
        "x ",
        "a:b ",
        "!key:*part* ",
        '"quoted words" ',
        'key:"quoted value" ',
        "firstSeen:-24h ",
        "level:error has:release is:resolved ",
        ":::: ",
        "!!!!!!!!: ",
        "\\\\\\",
        "a" * 50,  # one long word
    ],
)
def test_reading_takes_time_linear_in_the_query(unit):
    assert_linear(unbounded, lambda n: unit * n, 200)


@pytest.mark.parametrize("opening", ['"', 'key:"', 'a b !key:"'])
def test_an_unclosed_quote_is_found_in_linear_time(opening):
    def run(text):
        with pytest.raises(SearchError):
            unbounded(text)

    assert_linear(run, lambda n: opening + 'word \\" ' * n, 200)


def test_the_scanner_alone_is_linear_in_keys_without_values():
    assert_linear(lambda text: list(scan(text)), lambda n: "k" * n + ":", 2000)
