"""
API token scopes and expiry: what each token opens, on every endpoint.

A ``feed:read`` token (sent in URLs, so kept in access logs) opens the feeds
and nothing else; ``event:read`` the API's reads; ``event:write`` resolving.
An expired token is answered exactly as an unknown one.
"""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sentry.api.tokens import (
    DEFAULT_SCOPES,
    EVENT_READ,
    EVENT_WRITE,
    FEED_READ,
    UPLOAD,
    ApiToken,
    hash_token,
)
from sentry.client.models import client as sentry_client
from sentry.models import GroupedMessage, Message

pytestmark = pytest.mark.django_db

#: The scopes of the tokens tried on every endpoint.
TOKEN_KINDS = {
    "feed": (FEED_READ,),
    "read": (EVENT_READ,),
    "write": (EVENT_WRITE,),
    "read_write": (EVENT_READ, EVENT_WRITE),
    "legacy": (FEED_READ, EVENT_READ, EVENT_WRITE),
    # sentry-cli's source map uploads (tests/test_sourcemaps_upload.py): no more.
    "upload": (UPLOAD,),
}
#: Endpoint name -> (how it is called, the scope it needs).
ENDPOINTS = {
    "feed-messages": ("feed", FEED_READ),
    "feed-groups": ("feed", FEED_READ),
    "api-groups": ("get", EVENT_READ),
    "api-group": ("get", EVENT_READ),
    "api-occurrences": ("get", EVENT_READ),
    "api-occurrence": ("get", EVENT_READ),
    "api-resolve": ("post", EVENT_WRITE),
    "api-unresolve": ("post", EVENT_WRITE),
}


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("ops", password="pw", is_staff=True)


@pytest.fixture
def occurrence():
    message_id = sentry_client.create_from_text("card declined")
    return Message.objects.get(message_id=message_id)


def make_token(user, scopes, expired=False):
    expires = timezone.now() + dt.timedelta(days=-1 if expired else 1)
    return ApiToken.objects.create_token(user, scopes=scopes, expires=expires)[1]


def call(name, token, occurrence):
    """Call endpoint ``name`` with ``token`` the way its clients send it."""
    how, _ = ENDPOINTS[name]
    if name == "api-occurrence":
        url = reverse(f"sentry:{name}", args=[occurrence.message_id])
    elif name in ("api-groups",) or how == "feed":
        url = reverse(f"sentry:{name}")
    else:
        url = reverse(f"sentry:{name}", args=[occurrence.group_id])
    if how == "feed":
        return Client().get(url, {"token": token})
    api = Client(headers={"Authorization": f"Bearer {token}"})
    return api.post(url) if how == "post" else api.get(url)


def expected_status(name, scopes, expired):
    how, needed = ENDPOINTS[name]
    if how == "feed":
        return 200 if needed in scopes and not expired else 403
    if expired:
        return 401  # as an unknown token
    return 200 if needed in scopes else 403


@pytest.mark.parametrize("expired", [False, True], ids=["valid", "expired"])
@pytest.mark.parametrize("kind", sorted(TOKEN_KINDS))
@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_each_token_opens_exactly_what_its_scopes_allow(
    name, kind, expired, staff_user, occurrence
):
    token = make_token(staff_user, TOKEN_KINDS[kind], expired)

    response = call(name, token, occurrence)

    assert response.status_code == expected_status(name, TOKEN_KINDS[kind], expired)


def test_a_feed_token_cannot_resolve_nor_read_occurrences(staff_user, occurrence):
    token = make_token(staff_user, (FEED_READ,))

    assert call("api-resolve", token, occurrence).status_code == 403
    assert call("api-occurrence", token, occurrence).status_code == 403
    assert GroupedMessage.objects.get().status == 0


def test_a_read_token_cannot_resolve(staff_user, occurrence):
    token = make_token(staff_user, (EVENT_READ,))

    response = call("api-resolve", token, occurrence)

    assert response.status_code == 403
    assert "event:write" in response.json()["detail"]
    assert GroupedMessage.objects.get().status == 0


def test_an_api_token_in_a_feed_url_is_refused(staff_user, occurrence):
    token = make_token(staff_user, (EVENT_READ, EVENT_WRITE))

    assert call("feed-messages", token, occurrence).status_code == 403


@pytest.mark.parametrize("how", ["get", "post"])
def test_an_expired_token_is_answered_as_an_unknown_one(how, staff_user, occurrence):
    expired = make_token(staff_user, TOKEN_KINDS["legacy"], expired=True)
    unknown = "sntr_" + "x" * 43
    name = "api-groups" if how == "get" else "api-resolve"

    answers = [call(name, token, occurrence) for token in (expired, unknown)]

    assert answers[0].status_code == answers[1].status_code == 401
    assert answers[0].content == answers[1].content
    feeds = [call("feed-groups", token, occurrence) for token in (expired, unknown)]
    assert feeds[0].status_code == feeds[1].status_code == 403
    assert feeds[0].content == feeds[1].content


def test_a_token_stops_working_when_it_expires(staff_user, occurrence):
    token = make_token(staff_user, (EVENT_READ,))
    assert call("api-groups", token, occurrence).status_code == 200

    ApiToken.objects.update(expires=timezone.now())

    assert call("api-groups", token, occurrence).status_code == 401


def test_a_refused_token_is_not_marked_used(staff_user, occurrence):
    token = make_token(staff_user, (FEED_READ,))

    call("api-groups", token, occurrence)

    assert ApiToken.objects.get().last_used is None


def test_new_tokens_get_the_least_privilege_by_default(staff_user):
    row, _ = ApiToken.objects.create_token(staff_user)

    assert DEFAULT_SCOPES == (FEED_READ,)
    assert row.scope_list() == [FEED_READ]
    assert row.expires is None


def test_unknown_scopes_are_refused(staff_user):
    with pytest.raises(ValueError, match="Unknown token scopes"):
        ApiToken.objects.create_token(staff_user, scopes=("admin",))


def test_the_command_creates_a_token_with_scopes_and_expiry(staff_user):
    out, err = StringIO(), StringIO()

    call_command(
        "sentry_createtoken",
        "ops",
        "--scope",
        "event:read",
        "--scope",
        "event:write",
        "--expires-in-days",
        "30",
        stdout=out,
        stderr=err,
    )

    row = ApiToken.objects.get()
    assert row.scope_list() == [EVENT_READ, EVENT_WRITE]
    days = (row.expires - timezone.now()).total_seconds() / 86400
    assert 29.9 < days <= 30
    assert ApiToken.objects.authenticate(out.getvalue().strip(), EVENT_WRITE)
    assert "event:read event:write" in err.getvalue()


def test_the_command_defaults_to_a_feed_token_that_never_expires(staff_user):
    out = StringIO()

    call_command("sentry_createtoken", "ops", stdout=out, stderr=StringIO())

    row = ApiToken.objects.get()
    assert row.scope_list() == [FEED_READ]
    assert row.expires is None


@pytest.mark.parametrize(
    "args", [["--scope", "admin"], ["--expires-in-days", "0"]], ids=["scope", "days"]
)
def test_the_command_refuses_bad_scopes_and_expiries(args, staff_user):
    with pytest.raises((CommandError, SystemExit)):
        call_command("sentry_createtoken", "ops", *args, stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_the_admin_shows_scopes_and_expiry(admin_client, staff_user):
    make_token(staff_user, (EVENT_READ,))

    page = admin_client.get(reverse("admin:sentry_apitoken_changelist"))

    assert page.status_code == 200
    assert b"event:read" in page.content


@pytest.mark.django_db(transaction=True)
def test_tokens_made_before_scopes_keep_what_they_could_do(django_user_model):
    executor = MigrationExecutor(connection)
    before = [("sentry", "0007_digestedevent")]
    after = [("sentry", "0008_token_scopes_expiry")]
    try:
        executor.migrate(before)
        user = django_user_model.objects.create_user("old", is_staff=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO sentry_apitoken (user_id, label, key_hash, created) "
                "VALUES (%s, 'old script', %s, %s)",
                [user.pk, hash_token("sntr_old"), timezone.now()],
            )
        executor = MigrationExecutor(connection)
        executor.migrate(after)

        row = ApiToken.objects.get()
        assert row.scope_list() == [EVENT_READ, EVENT_WRITE, FEED_READ]
        assert row.expires is None
        new, _ = ApiToken.objects.create_token(user)
        assert new.scope_list() == [FEED_READ]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
