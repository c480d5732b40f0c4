"""
Secrets are not stored: a corpus of secret shapes goes in through every path
(the in-process client, logging, a view that raises, the SDK endpoints, the
signed classic store/), then every row is searched through the ORM, and every
database file's bytes, for each secret.

Each row of the corpus names a shape, how it appears (as the value of a key,
inside a text, or both), and the substring that must never be stored.
"""

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connections
from django.test import Client, RequestFactory, override_settings

from sentry.client.handlers import SentryHandler
from sentry.client.models import client as sentry_client
from sentry.digest import drain
from sentry.models import Message, QueuedEvent
from sentry.packing import CompressionDictionary
from tests.ingest_factories import (
    event_envelope,
    exception_event,
    frame,
    make_key,
    message_event,
    post_envelope,
    post_store,
    signed_remote_request,
)


@dataclass(frozen=True)
class Shape:
    name: str
    #: What must never be stored.
    secret: str
    #: Sent as the value of this key (locals, data, forms, bodies, headers...).
    key: str = None
    #: Sent inside this text (messages, log arguments, values, breadcrumbs).
    text: str = None
    #: The key only hides a secret as a query parameter (``?code=``).
    query_only: bool = False


def named(name, key, secret):
    """A secret under a sensitive key, also sent as ``key=secret`` in text."""
    return Shape(name, secret, key=key, text=f"retry with {key}={secret} later")


def shaped(name, secret, text="{}"):
    """A secret recognised by its shape, inside a text."""
    return Shape(name, secret, text=text.format(secret))


JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIn0.Zq8vJwTsIgNaTuRe"
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7PemBodyZq"

CORPUS = [
    # By name: Relay's password rule and sensitive fields, and more.
    named("password", "password", "Zq-hunter2-password"),
    named("passwd", "passwd", "Zq-passwd-value"),
    named("pwd", "pwd", "Zq-pwd-value"),
    named("mysql_pwd", "mysql_pwd", "Zq-mysql-pwd"),
    named("passphrase", "passphrase", "Zq-passphrase-words"),
    named("db_pass", "db_pass", "Zq-db-pass-value"),
    named("pw", "pw", "Zq-pw-value"),
    named("secret", "secret", "Zq-secret-value"),
    named("client_secret", "client_secret", "Zq-client-secret"),
    named("aws secret key", "aws_secret_access_key", "ZqwJalrXUtnFEMIK7MDENGbPxRfiCY"),
    named("api_key", "api_key", "Zq-api-key-value"),
    named("apikey", "apikey", "Zq-apikey-value"),
    named("api-key", "api-key", "Zq-api-dash-key"),
    named("X-Api-Key", "X-Api-Key", "Zq-x-api-key"),
    named("token", "token", "Zq-token-value"),
    named("access_token", "access_token", "Zq-access-token"),
    named("refresh_token", "refresh_token", "Zq-refresh-token"),
    named("id_token", "id_token", "Zq-id-token-value"),
    named("auth", "auth", "Zq-auth-value"),
    named("auth_token", "auth_token", "Zq-auth-token"),
    named("X-Auth-Token", "X-Auth-Token", "Zq-x-auth-token"),
    named("Authorization", "Authorization", "Zq-authorization-value"),
    named("credentials", "credentials", "Zq-credentials-value"),
    named("session", "session", "Zq-session-value"),
    named("sessionid", "sessionid", "Zq-sessionid-value"),
    named("session_key", "session_key", "Zq-session-key"),
    named("PHPSESSID", "PHPSESSID", "Zq-phpsessid-value"),
    named("sid", "sid", "Zq-sid-value"),
    named("connect.sid", "connect.sid", "Zq-connect-sid"),
    named("jwt cookie", "jwt", "Zq-jwt-cookie"),
    named("csrf", "csrf", "Zq-csrf-value"),
    named("csrftoken", "csrftoken", "Zq-csrftoken-value"),
    named("xsrf", "XSRF-TOKEN", "Zq-xsrf-value"),
    named("cookie", "cookie", "Zq-cookie-value"),
    named("private_key", "private_key", "Zq-private-key"),
    named("privatekey", "privatekey", "Zq-privatekey"),
    named("signature", "signature", "Zq-signature-value"),
    named("sig", "sig", "Zq-sig-value"),
    named("otp", "otp", "Zq-otp-value"),
    named("totp", "totp_code", "Zq-totp-value"),
    named("pin", "pin", "Zq-pin-value"),
    named("user_pin", "user_pin", "Zq-user-pin"),
    named("pinCode", "pinCode", "Zq-pincode-value"),
    named("ssn", "ssn", "Zq-ssn-value"),
    named("cvv", "cvv", "Zq-cvv-value"),
    named("iban", "iban", "ZqDE89370400440532013000"),
    named("sentry_key", "sentry_key", "Zq-sentry-key"),
    named("access_key", "access_key", "Zq-access-key"),
    named("subscription key", "Ocp-Apim-Subscription-Key", "Zq-subscription-key"),
    named("license_key", "license_key", "Zq-license-key"),
    named("bearer_token", "bearer_token", "Zq-bearer-token"),
    Shape("OAuth code", "Zq-oauth-code", key="code", query_only=True),
    Shape("Google key parameter", "Zq-key-param", key="key", query_only=True),
    # Assignments in text, in every quoting style.
    shaped("password='x'", "Zq-quoted-single", "login password='{}' refused"),
    shaped('password="x"', "Zq-quoted-double", 'login password="{}" refused'),
    shaped("password = x", "Zq-spaced-equals", "login password = {} refused"),
    shaped("password: x", "Zq-colon-value", "password: {}"),
    shaped("JSON pair", "Zq-json-pair", '{{"user": "jane", "password": "{}"}}'),
    shaped("escaped JSON", "Zq-json-escaped", 'body={{\\"password\\": \\"{}\\"}}'),
    shaped("repr of a dict", "Zq-dict-repr", "{{'api_key': '{}', 'n': 1}}"),
    shaped("object repr", "Zq-object-repr", "<Login user='jane' password='{}'>"),
    shaped("fat arrow", "Zq-fat-arrow", "{{:password => '{}'}}"),
    shaped("env line", "Zq-env-line", "DB_PASSWORD={}\nDEBUG=1"),
    shaped("export line", "Zq-export-line", "export SECRET_KEY={}"),
    shaped("command line", "Zq-cli-flag", "mysql --user=app --password={} db"),
    shaped("query in text", "Zq-query-text", "GET /cb?state=1&access_token={}&x=2"),
    shaped("OAuth code in URL", "Zq-code-in-url", "https://shop.example/cb?code={}"),
    shaped("signed URL", "Zq-signed-url", "https://cdn.example/f?exp=1&signature={}"),
    shaped("sig in URL", "Zq-sig-in-url", "https://cdn.example/f?sig={}"),
    shaped("sentry_key in URL", "Zq-sentry-key-url", "/api/1/store/?sentry_key={}"),
    shaped("client_secret in URL", "Zq-secret-url", "/token?client_secret={}"),
    # Credentials inside text.
    shaped("Bearer", "Zq9bearer0token1value", "Authorization: Bearer {}"),
    shaped("bearer lowercase", "Zq9lower0bearer1token", "sent bearer {} upstream"),
    shaped("Basic", "dXNlcjpacS1iYXNpYy1wYXNz", "Authorization: Basic {}"),
    shaped("Token scheme", "9944b09199c62bcf9418ad846dd0e4bbZq", "Token {}"),
    # Well-known token formats.
    shaped("AWS access key id", "AKIAZQ5EXAMPLE7KEY42", "key id {} in use"),
    shaped("AWS temporary key id", "ASIAZQ5EXAMPLE7KEY42", "key id {} expired"),
    shaped("GitHub personal token", "ghp_Zq1234567890abcdefghijklmnopqrstuvwx"),
    shaped("GitHub OAuth token", "gho_Zq1234567890abcdefghijklmnopqrstuvwx"),
    shaped("GitHub user token", "ghu_Zq1234567890abcdefghijklmnopqrstuvwx"),
    shaped("GitHub server token", "ghs_Zq1234567890abcdefghijklmnopqrstuvwx"),
    shaped("GitHub refresh token", "ghr_Zq1234567890abcdefghijklmnopqrstuvwx"),
    shaped("GitHub fine-grained", "github_pat_11ZQ0000000000000000_abcdefghijklmnop"),
    shaped("Slack bot token", "xoxb-1234567890-0987654321-ZqAbCdEfGhIj"),
    shaped("Slack user token", "xoxp-1234567890-0987654321-ZqAbCdEfGhIj"),
    shaped("Slack app token", "xoxa-2-1234567890-ZqAbCdEfGhIj"),
    shaped("Slack refresh token", "xoxr-1234567890-ZqAbCdEfGhIj"),
    shaped("Slack legacy token", "xoxs-1234567890-ZqAbCdEfGhIj"),
    shaped(
        "Slack webhook",
        "T00000000/B00000000/ZqXXXXXXXXXXXXXXXXXXXXXX",
        "posting to https://hooks.slack.com/services/{} failed",
    ),
    shaped(
        "Discord webhook",
        "123456789/Zq-discord-webhook-token",
        "https://discord.com/api/webhooks/{}",
    ),
    shaped("Stripe live key", "sk_live_Zq51H8abcdefghijklmnop"),
    shaped("Stripe test key", "sk_test_Zq51H8abcdefghijklmnop"),
    shaped("Stripe restricted key", "rk_live_Zq51H8abcdefghijklmnop"),
    shaped("Stripe webhook secret", "whsec_Zq51H8abcdefghijklmnop"),
    shaped("Google API key", "AIzaSyZq-1234567890abcdefghijklmnopqrst", "?key={}"),
    shaped("Google API key in text", "AIzaSyZq_1234567890abcdefghijklmnopqrst"),
    shaped(
        "SendGrid key", "SG.Zq1234567890abcdefgh.ijklmnopqrstuvwxyz0123456789ABCDEFGH"
    ),
    shaped("npm token", "npm_Zq1234567890abcdefghijklmnopqrstuvwx"),
    shaped("GitLab token", "glpat-Zq1234567890abcdefgh"),
    shaped("Twilio API key", "SK0123456789abcdef0123456789abcdef", "sid {} in use"),
    shaped("IBAN", "GB82WEST12345698765432", "refund to {} failed"),
    shaped("OpenAI key", "sk-proj-Zq1234567890abcdefghijklmnop"),
    shaped("Anthropic key", "sk-ant-api03-Zq1234567890abcdefghijkl"),
    shaped("JWT in text", JWT, "decoded {} for user 42"),
    Shape("JWT in a variable", JWT.replace("Zq8", "Zq7"), key="note"),
    # PEM private keys, whole or cut.
    shaped(
        "RSA private key",
        PEM_BODY + "rsa",
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
    ),
    shaped(
        "PKCS8 private key",
        PEM_BODY + "pk8",
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
    ),
    shaped("EC private key", PEM_BODY + "ec", "-----BEGIN EC PRIVATE KEY-----\n{}\n"),
    shaped(
        "OpenSSH private key",
        PEM_BODY + "ssh",
        "-----BEGIN OPENSSH PRIVATE KEY-----\\n{}\\n-----END OPENSSH PRIVATE KEY-----",
    ),
    # Passwords in URLs.
    shaped("PostgreSQL URL", "Zq-pg-password", "postgres://app:{}@db:5432/shop"),
    shaped("MySQL URL", "Zq-mysql-password", "mysql://root:{}@127.0.0.1/x"),
    shaped("Redis URL", "Zq-redis-password", "redis://:{}@cache:6379/0"),
    shaped("MongoDB URL", "Zq-mongo-password", "mongodb+srv://u:{}@c.example/db"),
    shaped("AMQP URL", "Zq-amqp-password", "amqp://guest:{}@mq//"),
    shaped("HTTP URL", "Zq-http-password", "fetching https://bot:{}@api.example/x"),
    # Card numbers and other numbers.
    shaped("Visa", "4111111111111111", "paid with {} today"),
    shaped("Visa grouped", "4012 8888 8888 1881", "card {} declined"),
    shaped("Mastercard dashed", "5500-0000-0000-0004", "card {} declined"),
    shaped("Mastercard 2-series", "2223003122003222", "card {}"),
    shaped("Amex", "378282246310005", "amex {}"),
    shaped("Amex grouped", "3714 496353 98431", "amex {}"),
    shaped("Discover", "6011111111111117", "discover {}"),
    shaped("JCB", "3530111333300000", "jcb {}"),
    shaped("Diners", "30569309025904", "diners {}"),
    shaped("Visa 13 digits", "4222222222222", "old visa {}"),
    shaped("card glued to letters", "5555555555554444", "card{}"),
    shaped("card glued to _", "4000056655665556", "x_{}"),
    shaped("US SSN", "078-05-1120", "ssn on file: {}."),
    Shape("card as an int", "6011000990139424", key="reference"),
    # Python reprs in messages: a QueryDict logged, a dict of bytes or lists.
    shaped(
        "QueryDict repr", "Zq-querydict-pw", "POST <QueryDict: {{'password': ['{}']}}>"
    ),
    shaped("bytes in a dict repr", "Zq-bytes-token", "got {{'token': b'{}', 'n': 1}}"),
    shaped(
        "Digest authorization in text",
        "Zq-digest-response",
        'Authorization: Digest username="shop", response="{}"\nHost: x',
    ),
    shaped(
        "Negotiate authorization in text", "Zq-negotiate", "Authorization: Negotiate {}"
    ),
    shaped(
        "token in an encoded URL",
        "Zq-encoded-token",
        "redirect to /login?next=%2Fcb%3Faccess_token%3D{}%26state%3D1",
    ),
    shaped(
        "Azure storage connection string",
        "ZqAzureAccountKey0123456789abcdef==",
        "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey={};EndpointSuffix=x",
    ),
    shaped("command-line option", "Zq-cli-password", "mysqldump --password {} shop"),
    shaped(
        "option in a failed command",
        "Zq-cli-token",
        "Command '['deploy', '--api-key', '{}']' returned non-zero exit status 1.",
    ),
    shaped("tuple in a dict repr", "Zq-tuple-secret", "{{'secret': ('{}',)}}"),
]
INT_CARDS = {"reference": 6011000990139424, "order_ref": 5105105105105100}
assert len(CORPUS) >= 100


def corpus_by_key(query=False):
    """Return the keyed shapes as a dict (query-only names when ``query``)."""
    values = {s.key: s.secret for s in CORPUS if s.key and (query or not s.query_only)}
    values.pop("reference")
    return values


def corpus_texts():
    return [shape.text for shape in CORPUS if shape.text]


def header_name(key):
    return "HTTP_" + key.upper().replace("-", "_").replace(".", "_")


def forms_of(secret):
    """The ways a secret may be written: as it is, JSON-escaped, repr'd."""
    return {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]}


def cards_of(secret):
    digits = secret.replace(" ", "").replace("-", "")
    return {secret, digits} if digits.isdigit() else {secret}


# -- The search ----------------------------------------------------------------


def everything_stored():
    """Yield every value the app stored, compressed and pickled data decoded."""
    for model in apps.get_app_config("sentry").get_models():
        for row in model._base_manager.all():
            for field in model._meta.concrete_fields:
                value = getattr(row, field.attname)
                if value is not None:
                    yield repr(value)
                    if isinstance(value, (bytes, memoryview)):
                        yield bytes(value).decode("latin-1")


def assert_no_secret_stored(expected_int_cards=INT_CARDS):
    stored = "\n".join(everything_stored())
    assert stored, "nothing was stored at all"
    for shape in CORPUS:
        for form in forms_of(shape.secret) | cards_of(shape.secret):
            where = stored.find(form)
            assert where < 0, (
                f"the {shape.name} secret was stored: "
                f"...{stored[max(0, where - 150) : where + 60]}"
            )
    for value in expected_int_cards.values():
        assert str(value) not in stored, f"card {value} (an int) was stored"


def database_files():
    """Return the files of the SQLite databases and their WAL."""
    paths = set()
    for alias in connections:
        name = connections[alias].settings_dict["NAME"]
        if name and name != ":memory:" and not str(name).startswith("file:"):
            for suffix in ("", "-wal", "-journal"):
                if os.path.exists(f"{name}{suffix}"):
                    paths.add(Path(f"{name}{suffix}"))
    return sorted(paths)


def assert_no_secret_in_database_files():
    files = database_files()
    assert files, "no database file found"
    for path in files:
        raw = path.read_bytes()
        for shape in CORPUS:
            for form in forms_of(shape.secret) | cards_of(shape.secret):
                assert form.encode() not in raw, (
                    f"the {shape.name} secret is in the bytes of {path.name}"
                )


# -- The paths -----------------------------------------------------------------


def request_with_every_secret():
    """A POST with every secret in its query, form, headers and cookies."""
    by_key, query = corpus_by_key(), corpus_by_key(query=True)
    headers = {header_name(key): value for key, value in by_key.items()}
    headers.update(
        {f"HTTP_X_NOTE_{i}": text for i, text in enumerate(corpus_texts()) if text}
    )
    headers["HTTP_COOKIE"] = "; ".join(
        f"{k}={v}" for k, v in by_key.items() if ";" not in v
    )
    factory = RequestFactory()
    request = factory.post(
        "/pay/?" + "&".join(f"{k}={v}" for k, v in query.items()),
        {**by_key, "notes": corpus_texts()},
        **headers,
    )
    request.body  # noqa: B018  (read, as a view would: the body is kept)
    return request


def json_request_with_every_secret():
    body = json.dumps({**corpus_by_key(), "notes": corpus_texts(), **INT_CARDS})
    request = RequestFactory().post("/pay/", body, content_type="application/json")
    request.body  # noqa: B018
    return request


def send_through_the_client():
    def charge(by_key, texts, cards):
        password = by_key["password"]  # noqa: F841
        api_key = by_key["api_key"]  # noqa: F841
        jwt = JWT  # noqa: F841
        reference = cards["reference"]  # noqa: F841
        raise ValueError(texts[0])

    for request in (request_with_every_secret(), json_request_with_every_secret()):
        try:
            charge(corpus_by_key(), corpus_texts(), INT_CARDS)
        except ValueError:
            assert sentry_client.create_from_exception(
                request=request,
                data={**corpus_by_key(), "texts": corpus_texts(), **INT_CARDS},
                tags={**corpus_by_key(), **INT_CARDS},
            )
    for text in corpus_texts():
        # Also as a key: a cache keyed by a token, a dict of texts seen.
        assert sentry_client.create_from_text(
            text,
            data={"note": text, "by_text": {text: 1}},
            logger=text,
            view=text,
            server_name=text,
            site=text,
        )


def send_through_logging():
    logger = logging.getLogger("tests.secrets")
    handler = SentryHandler()
    logger.addHandler(handler)
    try:
        for text in corpus_texts():
            logger.error("charge failed: %s", text)
        logger.error(
            "charge failed",
            extra={"data": {**corpus_by_key(), **INT_CARDS, "texts": corpus_texts()}},
        )
    finally:
        logger.removeHandler(handler)


def send_through_a_view():
    query = corpus_by_key(query=True)
    by_key = corpus_by_key()
    Client(raise_request_exception=False).get(
        "/boom/",
        {**query, "note": corpus_texts()[:30]},
        headers={k: v for k, v in by_key.items() if "." not in k},
        HTTP_AUTHORIZATION=f"Bearer {CORPUS[0].secret}",
        HTTP_COOKIE="; ".join(f"{k}={v}" for k, v in by_key.items()),
    )


def sdk_event(kind=exception_event):
    by_key, texts = corpus_by_key(), corpus_texts()
    event = kind(
        request={
            "url": "https://shop.example.com/pay?"
            + "&".join(f"{k}={v}" for k, v in corpus_by_key(query=True).items()),
            "method": "POST",
            "query_string": corpus_by_key(query=True),
            "headers": {**by_key, **{f"X-Note-{i}": t for i, t in enumerate(texts)}},
            "cookies": by_key,
            "data": {**by_key, "notes": texts, **INT_CARDS},
        },
        extra={**by_key, "texts": texts, **INT_CARDS},
        breadcrumbs={"values": [{"message": t, "data": by_key} for t in texts]},
        contexts={"payment": by_key},
        tags={**by_key, **INT_CARDS},
    )
    if "exception" in event:
        frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
        frames.append(frame("charge", 5, "    gateway.charge(card)", **by_key))
        event["exception"]["values"][-1]["value"] = texts[0]
    return event


def raw_body_events():
    """Events whose request body came as a raw JSON or form string."""
    by_key = corpus_by_key()
    as_json = sdk_event(message_event)
    as_json["request"]["data"] = json.dumps({**by_key, **INT_CARDS})
    as_form = sdk_event(message_event)
    as_form["request"]["data"] = "&".join(
        f"{k}={v}" for k, v in by_key.items() if "&" not in v and " " not in v
    )
    return [as_json, as_form]


def send_through_the_sdk_endpoints(client):
    key = make_key()
    for event in [sdk_event(), *raw_body_events()]:
        response = post_envelope(client, event_envelope(event), key)
        assert response.status_code == 200, response.content
    for text in corpus_texts():
        event = message_event(text, extra={"by_text": {text: 1}})
        # The fields stored in columns of their own: a transaction named by
        # its URL, a logger or server named by a text that holds a secret.
        event.update(transaction=text, logger=text, server_name=text, dist=text)
        response = post_store(client, json.dumps(event).encode(), key)
        assert response.status_code == 200, response.content
    remote = {
        "message": corpus_texts()[0],
        "level": 40,
        "data": {"extra": {**corpus_by_key(), "texts": corpus_texts(), **INT_CARDS}},
    }
    with override_settings(SENTRY_KEY="shared-secret"):
        assert signed_remote_request(client, remote).status_code == 200
    drain()


# -- The tests -------------------------------------------------------------------


def test_the_corpus_holds_a_hundred_distinct_secrets():
    secrets = [shape.secret for shape in CORPUS]
    assert len(set(secrets)) == len(secrets) >= 100


@pytest.mark.django_db
def test_no_secret_from_any_in_process_path_is_stored():
    send_through_the_client()
    send_through_logging()
    send_through_a_view()

    assert Message.objects.count() > len(corpus_texts())
    # The compression dictionaries (first occurrences) are searched too.
    assert CompressionDictionary.objects.exists()
    assert_no_secret_stored()


@pytest.mark.django_db
def test_no_secret_sent_by_an_sdk_or_a_remote_site_is_stored(client):
    send_through_the_sdk_endpoints(client)

    # Every event digested (some joined a group flooded already: counted).
    assert not QueuedEvent.objects.exists()
    assert Message.objects.count() > len(corpus_texts()) // 2
    assert_no_secret_stored()


@pytest.mark.skipif(
    connections["default"].vendor != "sqlite", reason="the files of SQLite"
)
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_no_secret_from_in_process_paths_is_in_the_database_files():
    send_through_the_client()
    send_through_logging()
    send_through_a_view()

    assert_no_secret_in_database_files()


@pytest.mark.skipif(
    connections["default"].vendor != "sqlite", reason="the files of SQLite"
)
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_no_secret_sent_by_an_sdk_is_in_the_database_files(client):
    send_through_the_sdk_endpoints(client)

    assert_no_secret_in_database_files()
