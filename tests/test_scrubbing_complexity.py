"""
Scrubbing costs linear time in its input, whatever the input: the crafted
texts that took the old ``name=value`` search cubic time (``=auth`` repeated)
and the worst case of every other scanner, through the scrubber, the digest's
one walk and the in-process client end to end.
"""

import logging

import pytest
from django.test import RequestFactory, override_settings

from sentry.client.handlers import SentryHandler
from sentry.client.models import client
from sentry.jsondata import shape_and_scrub
from sentry.scrubbing import Scrubber, parse_body
from sentry.utils.shaping import Shaper

from .complexity import assert_linear

#: Texts of about ``n`` characters, each the worst case of some step.
WORST_TEXTS = {
    "a separator, then sensitive names": lambda n: "x=" + "auth" * (n // 4),
    "sensitive names, then a separator": lambda n: "auth" * (n // 4) + "=x",
    "sensitive names assigned in a row": lambda n: "=auth" * (n // 5),
    "sensitive names and no separator": lambda n: "password" * (n // 8),
    "a long query string": lambda n: "a=b&" * (n // 4),
    "query parameters named alike": lambda n: "&".join(
        f"token{i}=v{i}" for i in range(n // 14)
    ),
    "sensitive assignments": lambda n: "password=hunter2 " * (n // 17),
    "quoted values never closed": lambda n: "password='" * (n // 10),
    "JSON pairs never closed": lambda n: '"password": "' * (n // 13),
    "escaped quotes": lambda n: "password='" + "\\'" * (n // 2),
    "a long digit run": lambda n: "4" * n,
    "single digits apart": lambda n: "1 " * (n // 2),
    "card-like groups": lambda n: "4111 " * (n // 5),
    "dashed groups": lambda n: "4111-" * (n // 5),
    "social security numbers": lambda n: "123-45-6789 " * (n // 12),
    "mixed ascii and not": lambda n: "é=auth ü" * (n // 8),
    "JWT openings": lambda n: "eyJ" * (n // 3),
    "JWT segments": lambda n: "eyJab." * (n // 6),
    "token prefixes": lambda n: "ghp_AKIAsk-xoxb-" * (n // 16),
    "URL schemes": lambda n: "://" * (n // 3),
    "URL passwords": lambda n: "://a:b@" * (n // 7),
    "PEM openings": lambda n: "-----BEGIN " * (n // 11),
    "PEM keys never closed": lambda n: "-----BEGIN PRIVATE KEY-----" * (n // 27),
    "bearer words": lambda n: "Bearer " * (n // 7),
    "bearer tokens": lambda n: "bearer a1 " * (n // 10),
    "basic words": lambda n: "Basic dXNlcjpwYXNz " * (n // 19),
    "backslashes": lambda n: "\\" * n,
    "colons": lambda n: "token:" * (n // 6),
    "IBAN-like runs": lambda n: "GB82" + "A" * n,
    "IBAN openings": lambda n: "GB82WEST1234 " * (n // 13),
    "Twilio-like keys": lambda n: "SK" + "a" * n,
    "containers never closed": lambda n: "password=[" * (n // 10),
    "containers nested": lambda n: "password=" + "[" * (n // 2) + "]" * (n // 2),
    "containers one a line": lambda n: "password=(x\n" * (n // 12),
    "string prefixes": lambda n: "password=rb'" * (n // 12),
    "dashes": lambda n: "-" * n,
    "encoded separators": lambda n: "%3D" * (n // 3),
    "encoded assignments": lambda n: "token%3D" * (n // 8),
    "an encoded value of percents": lambda n: "token%3D" + "%2" * (n // 2),
    "encoded names": lambda n: "%3D" + "auth" * (n // 4),
    "authorization headers": lambda n: "Authorization: " * (n // 15),
    "authorization lines": lambda n: "Authorization: x\r\n" * (n // 18),
    "options never valued": lambda n: "--password" * (n // 10),
    "options with spaces": lambda n: "--token " + " " * n,
    "option lists": lambda n: "'--secret', '" * (n // 13),
}


@pytest.mark.parametrize("make", WORST_TEXTS.values(), ids=WORST_TEXTS.keys())
def test_scrubbing_a_text_is_linear(make):
    assert_linear(lambda text: Scrubber().text(text), make, 500, max_n=200_000)


@pytest.mark.parametrize(
    "fields, make",
    [
        (["=x"], lambda n: "=x" * (n // 2)),
        (["My Key"], lambda n: "my keymy key=" * (n // 13)),
        (["pin"], lambda n: "pin" * (n // 3)),
    ],
)
def test_scrubbing_with_extra_names_is_linear(fields, make):
    with override_settings(SENTRY_SCRUB_FIELDS=fields):
        assert_linear(lambda text: Scrubber().text(text), make, 500, max_n=200_000)


def test_sensitive_looking_keys_cost_linear_time():
    assert_linear(
        lambda key: Scrubber().is_sensitive(key),
        lambda n: "PINpin_" * (n // 7),
        1000,
        max_n=400_000,
    )


def nested(n):
    # As wide and deep as shaping lets data be, every text a worst case.
    text = "=" + "auth" * (n // 40)
    return {
        "extra": {
            f"k{i}": {"v": [text, {"password": text, "note": text}]} for i in range(10)
        }
    }


def test_scrubbing_nested_data_is_linear():
    assert_linear(lambda data: Scrubber()(data), nested, 500, max_n=200_000)


def test_the_digest_walk_is_linear():
    def run(data):
        with override_settings(SENTRY_MAX_LENGTH_STRING=10**7):
            shape_and_scrub(data, Shaper(), Scrubber())

    assert_linear(run, nested, 500, max_n=200_000)


@pytest.mark.django_db
@pytest.mark.parametrize("kilobytes", [3, 24])
def test_capturing_a_request_with_a_crafted_parameter_is_linear(kilobytes):
    # The 45 s request of the report: one anonymous GET to a view that
    # raised, with a 3 KB parameter.
    def make(n):
        return RequestFactory().get("/pay/", {"coupon": "=" + "auth" * (n // 4)})

    def run(request):
        try:
            raise ValueError("declined")
        except ValueError:
            client.create_from_exception(request=request)

    small, large = assert_linear(
        run, make, kilobytes * 1024 // 8, factor=8, max_n=200_000
    )
    assert large < 2.0


@pytest.mark.django_db
def test_logging_a_crafted_argument_is_linear():
    logger = logging.getLogger("tests.complexity.scrubbing")
    handler = SentryHandler()
    logger.addHandler(handler)
    logger.propagate = False
    try:
        assert_linear(
            lambda value: logger.warning("invalid coupon %s", value),
            lambda n: "=" + "auth" * (n // 4),
            3 * 1024,
            max_n=200_000,
        )
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


@pytest.mark.django_db
def test_a_message_of_sensitive_assignments_is_linear():
    assert_linear(
        lambda text: client.create_from_text(text),
        lambda n: "password=x " * (n // 11) + "=" + "auth" * (n // 40),
        3 * 1024,
        max_n=200_000,
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "a=b&" * (n // 4),
        lambda n: '{"password": "' + "=auth" * (n // 5) + '"}',
        lambda n: "[" * n,
        lambda n: "=" + "auth" * (n // 4),
    ],
    ids=["a form", "a JSON body", "JSON nested too deep", "neither"],
)
def test_parsing_a_request_body_is_linear(make):
    assert_linear(lambda body: Scrubber()(parse_body(body)), make, 1000, max_n=400_000)


@pytest.mark.parametrize(
    "make_key",
    [
        lambda i: f"password=x{i}",
        lambda i: f"k{i}",
        lambda i: f"--token {i} " + "auth" * 10,
    ],
    ids=["assignments", "short names", "long sensitive texts"],
)
def test_scrubbing_many_distinct_keys_is_linear(make_key):
    def run(data):
        shape_and_scrub({"extra": data}, Shaper(max_list=10**9), Scrubber())

    assert_linear(run, lambda n: {make_key(i): i for i in range(n)}, 500, max_n=200_000)
