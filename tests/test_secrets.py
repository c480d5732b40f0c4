"""
Secrets are not stored: a corpus of secrets goes in through every in-process
path, then the whole database is searched for them.
"""

import logging

import pytest
from django.apps import apps
from django.test import Client, RequestFactory, override_settings

from sentry.client.models import client

pytestmark = pytest.mark.django_db

SECRETS = {
    "password": "hunter2-S3cret-pw",
    "api_key": "AKIAEXAMPLEKEY0001",
    "token": "ghp_exampletoken0000000000000001",
    "session": "sessionvalue-0001",
    "csrf": "csrfvalue-0001-abcdef",
    "bearer": "eyJhbGciOiJIUzI1NiJ9.secretpayload.sig",
    "client_secret": "oauth-client-secret-0001",
    "private_key": "-----BEGIN PRIVATE KEY-----MIIEexample",
}
CARDS = ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"]


def everything_stored():
    """Yield every text the app stored, pickled data decoded."""
    for model in apps.get_app_config("sentry").get_models():
        for row in model._base_manager.all():
            for field in model._meta.concrete_fields:
                value = getattr(row, field.attname)
                if value is not None:
                    yield repr(value)


def card_digits(card):
    return card.replace(" ", "").replace("-", "")


def assert_no_secret_stored():
    stored = "\n".join(everything_stored())
    assert stored, "nothing was stored at all"
    for name, secret in SECRETS.items():
        where = stored.find(secret)
        assert where < 0, (
            f"the {name} secret was stored: ...{stored[where - 150 : where + 40]}"
        )
    for card in CARDS:
        assert card not in stored and card_digits(card) not in stored, (
            f"card {card} was stored"
        )


def test_no_secret_from_any_in_process_path_is_stored():
    # 1. Local variables of the failing frame.
    def charge():
        password = SECRETS["password"]  # noqa: F841
        api_key = SECRETS["api_key"]  # noqa: F841
        client_secret = SECRETS["client_secret"]  # noqa: F841
        settings_dict = {  # noqa: F841
            "PRIVATE_KEY": SECRETS["private_key"],
            "auth": {"token": SECRETS["token"]},
        }  # noqa: F841
        raise ValueError(f"card {CARDS[0]} was declined")

    request = RequestFactory().post(
        f"/pay/?token={SECRETS['token']}&page=2",
        {
            "password": SECRETS["password"],
            "card": CARDS[1],
            "csrfmiddlewaretoken": SECRETS["csrf"],
        },
        HTTP_AUTHORIZATION=f"Bearer {SECRETS['bearer']}",
        HTTP_X_API_KEY=SECRETS["api_key"],
        HTTP_COOKIE=f"sessionid={SECRETS['session']}; csrftoken={SECRETS['csrf']}",
    )
    try:
        charge()
    except ValueError:
        assert client.create_from_exception(
            request=request,
            # 2. Extra data and tags.
            data={
                "credentials": {"user": "jane", "secret": SECRETS["client_secret"]},
                "note": f"paid with {CARDS[2]}",
            },
            tags={"api_key": SECRETS["api_key"]},
        )

    # 3. Text messages.
    assert client.create_from_text(
        f"refund to {CARDS[0]} failed", data={"password": SECRETS["password"]}
    )

    # 4. Logging records, with extra.
    logger = logging.getLogger("tests.secrets")
    from sentry.client.handlers import SentryHandler

    handler = SentryHandler()
    logger.addHandler(handler)
    try:
        logger.error(
            "charge of %s failed",
            CARDS[1],
            extra={"request": request, "data": {"session_token": SECRETS["session"]}},
        )
    finally:
        logger.removeHandler(handler)

    # 5. An exception escaping a view, with a query string secret.
    Client(raise_request_exception=False).get(
        f"/boom/?api_key={SECRETS['api_key']}",
        HTTP_AUTHORIZATION=f"Bearer {SECRETS['bearer']}",
    )

    assert_no_secret_stored()


def test_no_secret_sent_by_an_sdk_or_a_remote_site_is_stored(client):
    from tests.ingest_factories import (
        event_envelope,
        exception_event,
        frame,
        make_key,
        post_envelope,
        post_store,
        signed_remote_request,
    )

    key = make_key()
    event = exception_event(
        request={
            "url": f"https://shop.example.com/pay?token={SECRETS['token']}",
            "method": "POST",
            "query_string": f"api_key={SECRETS['api_key']}&page=1",
            "headers": {
                "Authorization": f"Bearer {SECRETS['bearer']}",
                "Cookie": f"sessionid={SECRETS['session']}",
                "X-Csrftoken": SECRETS["csrf"],
            },
            "cookies": {"sessionid": SECRETS["session"], "theme": "dark"},
            "data": {"password": SECRETS["password"], "card_number": CARDS[0]},
        },
        extra={"client_secret": SECRETS["client_secret"], "note": f"card {CARDS[1]}"},
        breadcrumbs={
            "values": [
                {"message": f"charged {CARDS[2]}", "data": {"auth": SECRETS["bearer"]}},
                {"message": f"login password={SECRETS['password']}"},
            ]
        },
        contexts={"payment": {"private_key": SECRETS["private_key"]}},
        tags={"session_id": SECRETS["session"]},
    )
    event["exception"]["values"][-1]["stacktrace"]["frames"].append(
        frame("charge", 5, "    gateway.charge(card)", password=SECRETS["password"])
    )
    assert post_envelope(client, event_envelope(event), key).status_code == 200

    # The legacy store endpoint, and the classic Django-to-Django protocol.
    legacy = exception_event(extra={"api_key": SECRETS["api_key"]})
    import json

    assert post_store(client, json.dumps(legacy).encode(), key).status_code == 200
    remote = {
        "message": f"refund to {CARDS[0]} failed",
        "level": 40,
        "data": {"extra": {"token": SECRETS["token"]}},
    }
    with override_settings(SENTRY_KEY="shared-secret"):
        assert signed_remote_request(client, remote).status_code == 200

    from sentry.models import Message

    assert Message.objects.count() == 3
    assert_no_secret_stored()
