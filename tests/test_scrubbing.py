"""Secrets are masked before anything is stored."""

import re

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from sentry.client.models import client
from sentry.models import Message
from sentry.scrubbing import MASK, Scrubber, luhn_ok, mask_cards, parse_body, scrub


def test_sensitive_keys_are_masked_anywhere():
    data = {
        "vars": {"password": "hunter2", "user": "jane"},
        "extra": {"nested": {"api_key": "k-123", "API_TOKEN": "t", "count": 3}},
        "headers": {
            "Authorization": "Bearer abc",
            "Cookie": "sessionid=1",
            "Accept": "*/*",
        },
    }
    result = scrub(data)
    assert result["vars"] == {"password": MASK, "user": "jane"}
    assert result["extra"]["nested"] == {"api_key": MASK, "API_TOKEN": MASK, "count": 3}
    assert result["headers"] == {"Authorization": MASK, "Cookie": MASK, "Accept": "*/*"}


def test_cookies_keep_harmless_values():
    result = scrub({"cookies": {"theme": "dark", "sessionid": "s", "csrftoken": "c"}})
    assert result["cookies"] == {"theme": "dark", "sessionid": MASK, "csrftoken": MASK}


def test_query_strings_and_urls_are_masked_by_parameter():
    result = scrub({"query_string": "a=1&token=abc", "url": "http://x/?password=p&b=2"})
    assert result["query_string"] == "a=1&token=********"
    assert result["url"] == "http://x/?password=********&b=2"


@pytest.mark.parametrize(
    "number", ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004"]
)
def test_card_numbers_are_masked_in_text(number):
    assert mask_cards(f"paid with {number} today") == f"paid with {MASK} today"


def test_digit_runs_that_fail_luhn_are_kept():
    assert not luhn_ok("1234567890123456")
    assert mask_cards("order 1234567890123456") == "order 1234567890123456"


def test_extra_fields_can_be_added():
    with override_settings(SENTRY_SCRUB_FIELDS=["pin"]):
        assert Scrubber()({"PIN": "1234", "name": "x"}) == {"PIN": MASK, "name": "x"}


def test_empty_values_are_left_as_they_are():
    assert scrub({"password": ""}) == {"password": ""}


@pytest.mark.django_db
@override_settings(SENTRY_SCRUB_DATA=False)
def test_scrubbing_can_be_turned_off():
    message_id = client.create_from_text("x", data={"password": "visible"})
    assert Message.objects.get(message_id=message_id).data["extra"] == {
        "password": "visible"
    }


@pytest.mark.django_db
def test_scrubbing_applies_to_stored_events():
    message_id = client.create_from_text(
        "card 4111111111111111 declined", data={"secret": "s3", "ok": 1}
    )
    message = Message.objects.get(message_id=message_id)
    assert message.message == f"card {MASK} declined"
    assert message.data["extra"] == {"secret": MASK, "ok": 1}


def test_words_that_only_look_like_secrets_are_kept():
    result = scrub(
        {"author": "jane", "tokenizer": "bpe", "auth_header": "x", "tokens": "t"}
    )
    assert result == {
        "author": "jane",
        "tokenizer": "bpe",
        "auth_header": MASK,
        "tokens": MASK,
    }


@pytest.mark.django_db
def test_card_numbers_in_the_traceback_text_are_masked():
    try:
        raise ValueError("card 4111111111111111 refused")
    except ValueError:
        message_id = client.create_from_exception()
    message = Message.objects.get(message_id=message_id)
    assert "4111111111111111" not in message.traceback
    assert MASK in message.traceback


def test_sensitive_assignments_inside_any_text_are_masked():
    result = scrub(
        {
            "note": "retry with password=hunter2 and page=3",
            "repr": "<Request '/x?api_key=K1&a=b'>",
        }
    )
    assert result["note"] == "retry with password=******** and page=3"
    assert result["repr"] == "<Request '/x?api_key=********&a=b'>"


#: The names the scrubber always masked in "name=value" texts.
OLD_FIELDS = (
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


def pairs_masked_of_old(value):
    """Return the "name=value" pairs the old (cubic) search masked."""
    extra = [re.escape(str(name)) for name in django_settings.SENTRY_SCRUB_FIELDS]
    names = "|".join([*OLD_FIELDS, *extra])
    old = re.compile(rf"([\w.-]*(?:{names})[\w.-]*)=([^&\s'\",;]+)", re.IGNORECASE)
    return [f"{m.group(1)}={m.group(2)}" for m in old.finditer(value)]


NAMES = st.sampled_from(
    [
        "password",
        "PassWord",
        "paſsword",
        "TOKEN",
        "tokenizer",
        "Author",
        "AUTH",
        "api-key",
        "API_KEY",
        "credentİal",
        "sessionid",
        "pin",
        "PIN",
        "my key",
        "a.b",
        "x",
    ]
)
ASSIGNMENTS = st.tuples(
    st.sampled_from(["", "x", "my_", "a.b-", " "]),
    NAMES,
    st.sampled_from(["", "_id", "s", "=x"]),
    st.sampled_from(["=", " = ", "=="]),
    st.sampled_from(["hunter2", "", "x&y", "'q'", "4111 1111 1111 1111"]),
).map("".join)
TEXTS = st.lists(
    ASSIGNMENTS
    | st.sampled_from([" ", "&", ";", "\n", "4111111111111111"])
    | st.text(st.characters(max_codepoint=127), max_size=5),
    max_size=8,
).map("".join) | st.text(max_size=20)


@pytest.mark.parametrize(
    "fields", [[], ["pin"], ["My Key", "a.b"], ["ſ"], ["=x"], ["PİN"]]
)
@settings(max_examples=150, deadline=None, database=None)
@given(value=TEXTS)
def test_texts_lose_at_least_what_they_always_lost(fields, value):
    with override_settings(SENTRY_SCRUB_FIELDS=fields):
        scrubber = Scrubber()
        result = scrubber.text(value)
        for pair in pairs_masked_of_old(value):
            secret = pair.partition("=")[2]
            if secret.startswith(">"):
                # "name=> value" is an arrow (Ruby, PHP): the value follows
                # it, and "password=>" at the end has none to mask.
                secret = secret[1:]
            # An opening bracket starts a value ("password={'a': 1}"): alone
            # at the end, it holds nothing to mask.
            secret = secret.lstrip("[({")
            if not MASK.startswith(secret):
                assert pair not in result
        # A second time, from what the scrubber remembers of the first.
        assert scrubber.text(value) == result


def test_a_scrubber_masks_texts_seen_before_as_the_first_time():
    scrubber = Scrubber()
    for _ in range(2):
        assert scrubber.text("paid 4111111111111111, password=x") == (
            f"paid {MASK}, password={MASK}"
        )
        assert scrubber.text("order 1234567890123456 shipped") == (
            "order 1234567890123456 shipped"
        )


@override_settings(SENTRY_SCRUB_FIELDS=["My Key"])
def test_extra_names_are_found_in_texts_in_any_case():
    assert Scrubber().text("my key=a&MY KEY=b") == f"my key={MASK}&MY KEY={MASK}"


@pytest.mark.parametrize(
    "text",
    [
        'Traceback (most recent call last):\n  File "app/auth.py", line 1234, in '
        "login\n    user = authenticate(request)\nValueError: bad input",
        "the author of the tokenizer pinned the spinner inside",
        "sessions list: 3 active, 2 expired",
        "message 9f86d081884c7d659a2feaa0c55ad015",
        "uuid 550e8400-e29b-41d4-a716-446655440000",
        "checksum e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "at 2026-12-07 02:04:23.123456+00:00, epoch 1733540663123 (ms)",
        "epoch 1733540663123456 (µs), line 4111, lineno=1234",
        "KeyError: 'pin' in Auth::Token::Parser at http://example.com/x?page=2",
        "status_code=500 error_code=E42 cache_key=user:42 key_count=3",
        "order 1234567890123456 shipped",
        "usage: manage.py migrate --fake-initial --database default -- x",
        "SELECT 1 -- the token count\n-----BEGIN CERTIFICATE-----",
    ],
)
def test_ordinary_text_is_kept(text):
    assert Scrubber().text(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("password='x1'", f"password='{MASK}'"),
        ('password="x1"', f'password="{MASK}"'),
        ("password = x1", f"password = {MASK}"),
        ("password: x1", f"password: {MASK}"),
        ('{"password": "x1", "n": 1}', f'{{"password": "{MASK}", "n": 1}}'),
        ('{\\"pwd\\": \\"x1\\"}', f'{{\\"pwd\\": \\"{MASK}\\"}}'),
        ("{:password => 'x1'}", f"{{:password => '{MASK}'}}"),
        ("password='it\\'s' n=1", f"password='{MASK}' n=1"),
        ("password='never closed\nnext", f"password='{MASK}\nnext"),
        ("/cb?code=x1&state=2", f"/cb?code={MASK}&state=2"),
        ("code=x1", "code=x1"),
        # Python's repr of a dict whose value is bytes or a container
        # (a QueryDict in a log message, a dict of lists).
        ("{'password': b'x1'}", f"{{'password': b'{MASK}'}}"),
        ("password = rb'x1'", f"password = rb'{MASK}'"),
        ("<QueryDict: {'password': ['x1']}>", f"<QueryDict: {{'password': [{MASK}]}}>"),
        ("{'password': ('x1', 'x2'), 'n': 1}", f"{{'password': ({MASK}), 'n': 1}}"),
        ("{'token': {'v': ['x1']}, 'n': 1}", f"{{'token': {{{MASK}}}, 'n': 1}}"),
        ("password=[never closed\nnext", f"password=[{MASK}\nnext"),
        ("password=[]", "password=[]"),
        # Percent-encoded: a URL inside a URL, a logged form body.
        ("next=%2Fcb%3Ftoken%3Dx1%26n%3D2", f"next=%2Fcb%3Ftoken%3D{MASK}%26n%3D2"),
        ("body password%3dx1 sent", f"body password%3d{MASK} sent"),
        ("discount%3D20%25", "discount%3D20%25"),
    ],
)
def test_assignments_are_masked_in_every_quoting_style(text, expected):
    assert Scrubber().text(text) == expected


@pytest.mark.parametrize(
    "scheme", ['Digest username="a", response="x1"', "Negotiate YII x1", "NTLM x1"]
)
def test_an_authorization_header_in_text_is_masked_to_the_end_of_its_line(scheme):
    text = f"Host: shop\nProxy-Authorization: {scheme}\nAccept: */*"
    assert (
        Scrubber().text(text) == f"Host: shop\nProxy-Authorization: {MASK}\nAccept: */*"
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mysqldump --password hunter2 shop", f"mysqldump --password {MASK} shop"),
        ("run --api-key  'x y' --v", f"run --api-key  '{MASK}' --v"),
        (
            "Command '['mysql', '--password', 'x1', '-u']' returned 1",
            f"Command '['mysql', '--password', '{MASK}', '-u']' returned 1",
        ),
        ('cmd ["psql", "--token", "x1"]', f'cmd ["psql", "--token", "{MASK}"]'),
    ],
)
def test_command_line_options_with_sensitive_names_are_masked(text, expected):
    assert Scrubber().text(text) == expected


def test_a_command_line_kept_as_a_list_has_its_sensitive_options_masked():
    command = ["mysql", "--password", "x1", "--user", "shop", "--token"]
    assert scrub({"cmd": command}) == {
        "cmd": ["mysql", "--password", MASK, "--user", "shop", "--token"]
    }


def test_short_names_are_masked_as_words_of_a_key_only():
    result = scrub(
        {
            "pin": 1,
            "user_pin": 2,
            "pinCode": 3,
            "PIN": 4,
            "connect.sid": 5,
            "spinner": 6,
            "pinned": 7,
            "inside": 8,
            "PINNED": 9,
        }
    )
    assert [k for k, v in result.items() if v == MASK] == [
        "pin",
        "user_pin",
        "pinCode",
        "PIN",
        "connect.sid",
    ]


def test_card_numbers_kept_as_integers_are_masked_and_timestamps_kept():
    result = scrub({"ref": 4111111111111111, "ts": 1733540663123, "n": 42})
    assert result == {"ref": MASK, "ts": 1733540663123, "n": 42}


def test_query_parameters_named_code_or_key_are_masked_in_queries_only():
    result = scrub(
        {
            "query_string": "code=c1&key=k1&page=2",
            "GET": {"code": "c1", "page": "2"},
            "extra": {"code": "print(1)", "key": "cache:1"},
        }
    )
    assert result["query_string"] == f"code={MASK}&key={MASK}&page=2"
    assert result["GET"] == {"code": MASK, "page": "2"}
    assert result["extra"] == {"code": "print(1)", "key": "cache:1"}


def test_a_url_loses_its_password_and_its_secret_parameters():
    result = scrub({"url": "https://bot:pw1@api.example/x?sig=s1&page=2"})
    assert result["url"] == f"https://bot:{MASK}@api.example/x?sig={MASK}&page=2"


def test_a_private_key_cut_short_is_masked_to_the_end():
    text = "key: -----BEGIN RSA PRIVATE KEY-----\nMIIEsecret"
    assert Scrubber().text(text) == f"key: -----BEGIN RSA PRIVATE KEY-----{MASK}"


@pytest.mark.parametrize(
    "body, content_type, expected",
    [
        ('{"password": "x", "n": 1}', "application/json", {"password": "x", "n": 1}),
        (
            "password=x&n=1",
            "application/x-www-form-urlencoded",
            {"password": "x", "n": "1"},
        ),
        ("a=1&a=2", "", {"a": ["1", "2"]}),
        ("{not json", "application/json", "{not json"),
        ("[" * 100_000, "application/json", "[" * 100_000),
        ("hello world", "text/plain", "hello world"),
    ],
)
def test_request_bodies_are_parsed_to_be_masked_by_key(body, content_type, expected):
    assert parse_body(body, content_type) == expected


def test_a_json_body_is_stored_masked_by_key():
    body = parse_body('{"user": "jane", "password": "hunter2"}')
    assert scrub({"request": {"data": body}})["request"]["data"] == {
        "user": "jane",
        "password": MASK,
    }


def test_secrets_used_as_dict_keys_are_masked():
    token = "sk_live_" + "a1" * 8
    data = {"cache": {token: "client", "plain": 3}, "cards": {"4111111111111111": 2}}

    assert scrub(data) == {"cache": {MASK: "client", "plain": 3}, "cards": {MASK: 2}}


def test_a_key_that_is_an_assignment_has_its_value_masked_in_the_key_too():
    assert scrub({"password=x1": 1}) == {f"password={MASK}": MASK}


# --- the scrubber the site's own captures share ------------------------------


def capture_with_local(name, value):
    """Record an error raised where a local ``name`` holds ``value``."""

    def fail(**local):
        raise ValueError("checkout failed")

    try:
        fail(**{name: value})
    except ValueError:
        return Message.objects.get(message_id=client.create_from_exception())


def frame_vars(message):
    frames = message.data["exception"]["values"][-1]["stacktrace"]["frames"]
    return frames[-1]["vars"]["local"]


@pytest.mark.django_db
def test_captures_share_a_scrubber_that_follows_the_scrub_fields():
    first = capture_with_local("coupon_code", "SPRING-2026")
    with override_settings(SENTRY_SCRUB_FIELDS=["coupon"]):
        second = capture_with_local("coupon_code", "SPRING-2026")
    third = capture_with_local("coupon_code", "SPRING-2026")

    assert frame_vars(first) == {"coupon_code": "SPRING-2026"}
    assert frame_vars(second) == {"coupon_code": MASK}
    assert frame_vars(third) == {"coupon_code": "SPRING-2026"}


@pytest.mark.django_db
def test_a_text_seen_clean_before_is_still_masked_under_a_sensitive_key():
    clean = capture_with_local("note", "s3cr3t-value-1234")
    secret = capture_with_local("password", "s3cr3t-value-1234")

    assert "s3cr3t" in repr(frame_vars(clean))
    assert frame_vars(secret) == {"password": MASK}


def test_a_scrubber_remembers_clean_texts_within_a_bound_of_characters(monkeypatch):
    monkeypatch.setattr("sentry.scrubbing.MAX_CLEAN_CHARS", 1000)
    scrubber = Scrubber()

    for n in range(100):
        assert scrubber.text(f"{n:03d} " + "x" * 96) == f"{n:03d} " + "x" * 96

    assert len(scrubber.clean_texts) == 10
    assert scrubber.clean_chars == 1000
