"""Alert rules and channels from settings, delivered to real HTTP receivers."""

import hashlib
import hmac
import json

import pytest
from django.core import checks, mail
from django.test import override_settings

from sentry import postprocess
from sentry.alerts import config, outbound
from sentry.alerts.plugin import ChannelPlugin
from sentry.client.models import client as sentry_client
from sentry.digest import drain
from sentry.models import GroupedMessage
from sentry.plugins.testing import plugin_installed
from tests.ingest_factories import make_key, message_event, post_events
from tests.receivers import Receiver

pytestmark = pytest.mark.django_db

CHANNEL_APPS = (
    "sentry.plugins.sentry_webhooks",
    "sentry.plugins.sentry_slack",
    "sentry.plugins.sentry_mattermost",
    "sentry.plugins.sentry_discord",
    "sentry.plugins.sentry_teams",
)
LOOPBACK = ["127.0.0.0/8"]
HOSTILE = "<!channel> *bold* @everyone [click](http://evil.example) <b>x</b> & _"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(ChannelPlugin, "delivery_retry_delay", 0.01)
    yield
    assert postprocess.flush(20)


def alerts(channels, rules, networks=LOOPBACK, **extra):
    """Settings that declare ``channels`` and ``rules``, channel apps installed."""
    # No flood summary unless asked: it writes from the plugins' threads,
    # which these tests' open transaction would hold up (tests of it, with
    # committed rows, are in test_alert_rules.py).
    extra.setdefault("SENTRY_ALERT_FLOOD_LIMIT", 0)
    settings = override_settings(
        SENTRY_ALERT_CHANNELS=channels,
        SENTRY_ALERT_RULES=rules,
        SENTRY_ALERTS_ALLOWED_NETWORKS=networks,
        SENTRY_URL_PREFIX="https://errors.example.com",
        **extra,
    )
    installed = plugin_installed(*CHANNEL_APPS)

    class Both:
        def __enter__(self):
            installed.__enter__()
            settings.__enter__()

        def __exit__(self, *exc):
            settings.__exit__(*exc)
            installed.__exit__(*exc)

    return Both()


def delivered():
    assert postprocess.flush(20), "the deliveries did not finish"


def body_of(receiver):
    [request] = receiver.requests
    return json.loads(request["body"])


# --- the generic webhook --------------------------------------------------------


def test_a_new_error_is_posted_to_the_webhook_with_what_the_docs_promise():
    with Receiver() as receiver:
        channel = {"plugin": "webhook", "url": receiver.url()}
        with alerts({"ops": channel}, [{"when": "new", "channels": ["ops"]}]):
            sentry_client.create_from_text("disk full", level=40)
            sentry_client.create_from_text("disk full", level=40)
            delivered()

    group = GroupedMessage.objects.get()
    [request] = receiver.requests
    assert request["path"] == "/hook/T0KEN"
    assert request["headers"]["Content-Type"] == "application/json"
    assert "X-Sentry-Signature" not in request["headers"]
    body = json.loads(request["body"])
    assert body["action"] == "new"
    assert body["project"] == {
        "slug": group.project.slug,
        "name": group.project.name,
    }
    assert body["group"]["id"] == group.pk
    assert body["group"]["title"] == "disk full"
    assert body["group"]["level"] == "error"
    assert body["group"]["short_id"] == group.qualified_short_id
    assert (
        body["group"]["url"] == f"https://errors.example.com/sentry/group/{group.pk}/"
    )
    assert body["event"]["message_id"] == group.message_set.order_by("pk")[0].message_id


def test_a_webhook_with_a_secret_is_signed_over_the_timestamp_and_body():
    with Receiver() as receiver:
        channel = {"plugin": "webhook", "url": receiver.url(), "secret": "s3cret"}
        with alerts({"ops": channel}, [{"when": "new", "channels": ["ops"]}]):
            sentry_client.create_from_text("signed")
            delivered()

    [request] = receiver.requests
    timestamp = request["headers"]["X-Sentry-Timestamp"]
    expected = hmac.new(
        b"s3cret", timestamp.encode() + b"." + request["body"], hashlib.sha256
    ).hexdigest()
    assert request["headers"]["X-Sentry-Signature"] == f"sha256={expected}"


def test_a_regression_rule_fires_on_the_return_not_on_the_first_event():
    with Receiver() as receiver:
        channel = {"plugin": "webhook", "url": receiver.url()}
        with alerts({"ops": channel}, [{"when": "regression", "channels": ["ops"]}]):
            sentry_client.create_from_text("queue stalled")
            GroupedMessage.objects.update(status=GroupedMessage.STATUS_RESOLVED)
            sentry_client.create_from_text("queue stalled")
            sentry_client.create_from_text("queue stalled")
            delivered()

    assert [json.loads(r["body"])["action"] for r in receiver.requests] == [
        "regression"
    ]


# --- the chat channels: their wire formats, escaped ------------------------------


def chat_message(kind):
    with Receiver() as receiver:
        channel = {"plugin": kind, "url": receiver.url()}
        with alerts({"chat": channel}, [{"when": "new", "channels": ["chat"]}]):
            sentry_client.create_from_text(HOSTILE)
            delivered()
    return body_of(receiver)


def test_slack_gets_mrkdwn_with_the_error_linked_and_its_text_escaped():
    body = chat_message("slack")
    group = GroupedMessage.objects.get()

    text = body["text"]
    assert f"<https://errors.example.com/sentry/group/{group.pk}/|" in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "&lt;b&gt;x&lt;/b&gt; &amp; _" in text
    assert body["blocks"][0]["text"] == {"type": "mrkdwn", "text": text}
    assert "Level: error" in body["blocks"][1]["text"]["text"]


@pytest.mark.parametrize("kind", ["slack", "mattermost", "teams"])
def test_event_text_can_neither_add_lines_nor_turn_text_around(kind):
    with Receiver() as receiver:
        channel = {"plugin": kind, "url": receiver.url()}
        with alerts({"chat": channel}, [{"when": "new", "channels": ["chat"]}]):
            sentry_client.create_from_text(
                "spoofed",
                view="app.views\u2028Level: fatal\nRelease: 9.9",
                tags={"environment": "prod\u202eved", "release": "&" * 400},
            )
            delivered()
    body = body_of(receiver)

    if kind == "slack":
        texts = [block["text"]["text"] for block in body["blocks"]]
        lines = texts[1].splitlines()
        # Slack's limit for a section's text; over it the message is refused.
        assert all(len(text) <= 3000 for text in texts)
    elif kind == "mattermost":
        lines = body["text"].splitlines()[1:]
    else:
        card = body["attachments"][0]["content"]
        lines = [block["text"] for block in card["body"][1:]]
    labels = [line.split(":", 1)[0] for line in lines]
    assert labels == ["Project", "Culprit", "Level", "Environment", "Release", "Events"]
    assert "\u202e" not in json.dumps(body, ensure_ascii=False)


def test_mattermost_gets_markdown_with_mentions_and_links_defused():
    text = chat_message("mattermost")["text"]

    assert "@everyone" not in text and "@\u200beveryone" in text
    assert "\\[click\\]\\(http\\:" in text
    assert "\\*bold\\*" in text
    group = GroupedMessage.objects.get()
    assert f"](https://errors.example.com/sentry/group/{group.pk}/)" in text


def test_discord_gets_content_that_can_ping_nobody():
    body = chat_message("discord")

    assert body["allowed_mentions"] == {"parse": []}
    assert "@\u200beveryone" in body["content"]
    assert len(body["content"]) <= 2000


def test_teams_gets_an_adaptive_card_with_a_link_to_the_error():
    body = chat_message("teams")
    group = GroupedMessage.objects.get()

    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open",
            "url": f"https://errors.example.com/sentry/group/{group.pk}/",
        }
    ]
    head = card["body"][0]["text"]
    assert "[\u200bclick]\u200b(\u200b" in head
    assert "\\" not in head.split("](https://")[0]


# --- rules ------------------------------------------------------------------------


def test_rules_filter_by_level_environment_release_project_and_tags(client):
    key = make_key()
    rules = [
        {"when": "new", "channels": ["a"], "level": "error"},
        {"when": "new", "channels": ["b"], "environment": "production"},
        {"when": "new", "channels": ["c"], "release": "shop@2.1", "tags": {"t": "1"}},
        {"when": "new", "channels": ["d"], "project": "no-such-project"},
        {"when": "new", "channels": ["e"], "project": key.project.slug},
    ]
    events = [
        message_event(
            message="warning in staging", level="warning", environment="staging"
        ),
        message_event(
            message="error in production",
            level="error",
            environment="production",
            release="shop@2.1",
            tags={"t": "1"},
        ),
    ]
    receivers = {name: Receiver() for name in "abcde"}
    for receiver in receivers.values():
        receiver.__enter__()
    try:
        channels = {
            name: {"plugin": "webhook", "url": r.url()} for name, r in receivers.items()
        }
        with alerts(channels, rules, SENTRY_DIGEST="worker"):
            post_events(client, key, events)
            drain()
            delivered()
    finally:
        for receiver in receivers.values():
            receiver.__exit__()

    def titles(name):
        return [
            json.loads(r["body"])["group"]["title"] for r in receivers[name].requests
        ]

    assert titles("a") == ["error in production"]
    assert titles("b") == ["error in production"]
    assert titles("c") == ["error in production"]
    assert titles("d") == []
    assert sorted(titles("e")) == ["error in production", "warning in staging"]
    production = json.loads(receivers["b"].requests[0]["body"])
    assert production["event"]["environment"] == "production"
    assert production["event"]["release"] == "shop@2.1"


def test_two_rules_naming_one_channel_send_one_message():
    with Receiver() as receiver:
        channel = {"plugin": "webhook", "url": receiver.url()}
        rules = [
            {"when": "new", "channels": ["ops"]},
            {"when": "new", "channels": ["ops"], "level": "error"},
        ]
        with alerts({"ops": channel}, rules):
            sentry_client.create_from_text("once", level=40)
            delivered()

    assert len(receiver.requests) == 1


def test_a_mail_channel_mails_its_addresses():
    channel = {"plugin": "mail", "to": ["oncall@example.com"]}
    with alerts({"pager": channel}, [{"when": "new", "channels": ["pager"]}]):
        sentry_client.create_from_text("mailed to the channel")
        delivered()

    [message] = mail.outbox
    assert message.to == ["oncall@example.com"]
    assert message.subject.endswith("New error (ERROR): mailed to the channel")


# --- failures: never in the way of recording, logged without secrets ---------------


def test_a_receiver_that_answers_500_is_tried_three_times_then_logged(sentry_errors):
    with Receiver(status=500) as receiver:
        channel = {"plugin": "slack", "url": receiver.url("/services/T0/B0/SECRET")}
        with alerts({"chat": channel}, [{"when": "new", "channels": ["chat"]}]):
            assert sentry_client.create_from_text("receiver broken") is not None
            delivered()

    assert len(receiver.requests) == 3
    [record] = [r for r in sentry_errors if "not delivered" in r.getMessage()]
    text = record.getMessage()
    assert "'chat'" in text and "answered 500" in text
    assert "SECRET" not in text and "/services" not in text


def test_a_receiver_that_is_down_is_logged_and_recording_goes_on(sentry_errors):
    with Receiver() as receiver:
        url = receiver.url()
    channel = {"plugin": "webhook", "url": url}
    with alerts({"ops": channel}, [{"when": "new", "channels": ["ops"]}]):
        assert sentry_client.create_from_text("receiver down") is not None
        delivered()

    [record] = [r for r in sentry_errors if "not delivered" in r.getMessage()]
    assert "ConnectionRefusedError" in record.getMessage()


def test_a_slow_receiver_holds_neither_recording_nor_for_ever(
    sentry_errors, monkeypatch
):
    monkeypatch.setattr(outbound, "EXCHANGE_TIMEOUT", 0.5)
    monkeypatch.setattr(ChannelPlugin, "delivery_attempts", 1)
    with Receiver(delay=3) as receiver:
        channel = {"plugin": "webhook", "url": receiver.url()}
        with alerts({"ops": channel}, [{"when": "new", "channels": ["ops"]}]):
            assert sentry_client.create_from_text("slow receiver") is not None
            # Recorded while the receiver still sits on the request.
            assert GroupedMessage.objects.filter(message="slow receiver").exists()
            delivered()

    [record] = [r for r in sentry_errors if "not delivered" in r.getMessage()]
    assert "no complete answer within 0.5 s" in record.getMessage()


def test_a_redirect_is_not_followed(sentry_errors):
    with Receiver() as target, Receiver(status=302, location=target.url()) as hop:
        channel = {"plugin": "webhook", "url": hop.url()}
        with alerts({"ops": channel}, [{"when": "new", "channels": ["ops"]}]):
            sentry_client.create_from_text("redirected")
            delivered()

    assert len(hop.requests) == 3
    assert target.requests == []
    assert any("redirects are not followed" in r.getMessage() for r in sentry_errors)


# --- outbound safety ---------------------------------------------------------------


def test_loopback_is_refused_unless_its_network_is_allowed(sentry_errors):
    with Receiver() as receiver:
        channel = {"plugin": "webhook", "url": receiver.url()}
        with alerts({"ops": channel}, [{"when": "new", "channels": ["ops"]}], []):
            sentry_client.create_from_text("to loopback")
            delivered()

    assert receiver.requests == []
    [record] = [r for r in sentry_errors if "not delivered" in r.getMessage()]
    assert "SENTRY_ALERTS_ALLOWED_NETWORKS" in record.getMessage()


def test_a_refused_address_is_not_tried_again(sentry_errors, monkeypatch):
    # Nothing changes between tries: three of them only keep the plugin's
    # thread from the next alerts.
    resolved = []
    real = outbound.resolve
    monkeypatch.setattr(
        outbound, "resolve", lambda *args: resolved.append(args) or real(*args)
    )
    channel = {"plugin": "webhook", "url": "http://127.0.0.1:9/hook"}
    with alerts({"ops": channel}, [{"when": "new", "channels": ["ops"]}], []):
        sentry_client.create_from_text("to loopback")
        delivered()

    assert len(resolved) == 1
    [record] = [r for r in sentry_errors if "not delivered" in r.getMessage()]
    assert "SENTRY_ALERTS_ALLOWED_NETWORKS" in record.getMessage()


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:9/x",  # a name that resolves to loopback
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
        "http://224.0.0.1/x",
        "http://100.64.0.1/x",
        "http://2130706433/x",  # 127.0.0.1 as a number
        "http://0x7f.1/x",
        "http://0/x",
        "http://[fe80::1%lo]/x",
        # IPv6 forms that carry a private IPv4 address to a translator
        "http://[64:ff9b::a00:1]/x",  # NAT64 of 10.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/x",  # NAT64 of the metadata service
        "http://[2002:a00:1::1]/x",  # 6to4 of 10.0.0.1
        "http://[::127.0.0.1]/x",  # IPv4-compatible
        "http://[::ffff:0:a00:1]/x",  # IPv4-translated
        "http://[64:ff9b:1::a00:1]/x",  # local-use NAT64
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x",  # Teredo
        "http://[fec0::1]/x",  # site-local
    ],
)
def test_private_and_special_addresses_are_refused_before_connecting(url):
    with (
        override_settings(SENTRY_ALERTS_ALLOWED_NETWORKS=[]),
        pytest.raises(outbound.DeliveryError) as refused,
    ):
        outbound.post(url, b"{}")

    assert refused.value.status is None
    assert "SENTRY_ALERTS_ALLOWED_NETWORKS" in refused.value.reason


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "64:ff9b::5db8:d70e", "2002:5db8:d70e::1", "2606:4700::1111"],
)
def test_public_addresses_and_ipv6_forms_of_public_ones_are_allowed(address):
    import ipaddress

    assert outbound.is_public(ipaddress.ip_address(address))


def test_a_name_is_resolved_once_and_the_checked_address_is_the_one_connected(
    monkeypatch,
):
    import socket

    answers = []
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        # The first answer is checked; a rebinding resolver would answer
        # differently the next time.
        if host != "alerts.test":
            return real(host, *args, **kwargs)
        answers.append(host)
        if len(answers) > 1:
            return real("10.0.0.1", *args, **kwargs)
        return real("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with Receiver() as receiver:
        url = f"http://alerts.test:{receiver.port}/hook"
        with override_settings(SENTRY_ALERTS_ALLOWED_NETWORKS=["127.0.0.1/32"]):
            response = outbound.post(url, b"{}")

    assert response.status == 200
    assert answers == ["alerts.test"]
    assert receiver.requests[0]["headers"]["Host"] == f"alerts.test:{receiver.port}"


def two_addresses(monkeypatch, name):
    """Make ``name`` resolve to 127.0.0.1 and 127.0.0.2, in that order."""
    import socket

    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host != name:
            return real(host, *args, **kwargs)
        return [
            *real("127.0.0.1", *args, **kwargs),
            *real("127.0.0.2", *args, **kwargs),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def test_a_request_that_may_have_arrived_is_not_sent_to_the_next_address(
    monkeypatch,
):
    monkeypatch.setattr(outbound, "EXCHANGE_TIMEOUT", 0.5)
    two_addresses(monkeypatch, "alerts.test")
    with (
        Receiver(delay=2) as first,
        Receiver(address=("127.0.0.2", first.port)) as second,
        override_settings(SENTRY_ALERTS_ALLOWED_NETWORKS=LOOPBACK),
        pytest.raises(outbound.DeliveryError, match="within 0.5 s"),
    ):
        outbound.post(f"http://alerts.test:{first.port}/hook", b"{}")

    assert len(first.requests) == 1
    assert second.requests == []


def test_an_address_that_refuses_the_connection_gives_way_to_the_next(
    monkeypatch,
):
    two_addresses(monkeypatch, "alerts.test")
    # Nothing listens on 127.0.0.1 at the port of this one on 127.0.0.2.
    with Receiver(address=("127.0.0.2", 0)) as second:
        url = f"http://alerts.test:{second.port}/hook"
        with override_settings(SENTRY_ALERTS_ALLOWED_NETWORKS=LOOPBACK):
            response = outbound.post(url, b"{}")

    assert response.status == 200
    assert len(second.requests) == 1


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "http:///x", "gopher://a/"]
)
def test_only_http_and_https_urls_are_sent_to(url):
    with pytest.raises(outbound.DeliveryError, match="only http and https"):
        outbound.post(url, b"{}")


def test_a_body_over_the_cap_is_not_sent():
    with pytest.raises(outbound.DeliveryError, match="over"):
        outbound.post("http://example.com/", b"x" * (outbound.MAX_BODY_BYTES + 1))


# --- configuration -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "rules", "message"),
    [
        ({"a": {"plugin": "pager"}}, [], "'plugin' must be one of"),
        ({"a": {"plugin": "webhook", "url": "ftp://x"}}, [], "http or https URL"),
        ({"a": {"plugin": "webhook", "url": "http://x", "tok": 1}}, [], "unknown keys"),
        ({"a": {"plugin": "mail", "to": ["nobody"]}}, [], "e-mail addresses"),
        ({}, [{"when": "new", "channels": ["b"]}], "no channel named 'b'"),
        ({}, [{"when": "sometimes", "channels": []}], "'when' must be one of"),
        ({}, [{"when": {"events": 5, "hours": 1}}], "'when' must be one of"),
        # Values of the wrong type, which Python refuses to look up or parse.
        ({"a": {"plugin": ["slack"]}}, [], "'plugin' must be one of"),
        ({"a": {"plugin": "slack", "url": "http://[::1/x"}}, [], "'url' cannot"),
        ({"a": {"plugin": "slack", "url": "http://x:99999/"}}, [], "'url' cannot"),
        ({}, [{"when": "new", "channels": [["a"]]}], "no channel named ['a']"),
        ({}, [{"when": "new", "channels": {"a": 1}}], "'channels' must name"),
        ({}, [{"when": "new", "channels": [], "project": None}], "'channels' must"),
        (
            {"a": {"plugin": "webhook", "url": "http://x"}},
            [{"when": "new", "channels": ["a"], "level": "loud"}],
            "unknown level 'loud'",
        ),
        (
            {"a": {"plugin": "webhook", "url": "http://x"}},
            [{"when": "new", "channels": ["a"], "tags": {"t": 1}}],
            "'tags' must map",
        ),
    ],
)
def test_a_channel_or_rule_that_cannot_be_read_is_a_system_check_error(
    channels, rules, message
):
    with alerts(channels, rules):
        errors = [e for e in checks.run_checks(databases=[]) if e.id == "sentry.E020"]

    assert len(errors) == 1
    assert message in errors[0].msg


def test_a_channel_whose_plugin_app_is_missing_is_a_system_check_error():
    channels = {"chat": {"plugin": "slack", "url": "https://hooks.example.com/x"}}
    with override_settings(SENTRY_ALERT_CHANNELS=channels):
        errors = [e for e in checks.run_checks(databases=[]) if e.id == "sentry.E020"]

    assert [
        "sentry.plugins.sentry_slack is not in INSTALLED_APPS" in e.msg for e in errors
    ] == [True]


def test_a_broken_alert_setting_leaves_recording_and_admin_mail_unharmed(
    sentry_errors,
):
    with alerts({"a": "not a dict"}, [], SENTRY_ADMINS=["ops@example.com"]):
        assert sentry_client.create_from_text("still mailed") is not None
        delivered()

    assert [m.to for m in mail.outbox] == [["ops@example.com"]]


def test_a_channels_url_is_shown_masked():
    channel = config._channel(
        "chat", {"plugin": "slack", "url": "https://hooks.example.com/services/T/B/X"}
    )

    assert channel.masked_url == "https://hooks.example.com/…"


def test_recording_does_not_wait_for_the_receiver():
    with Receiver(delay=2) as receiver:
        channel = {"plugin": "webhook", "url": receiver.url()}
        with alerts({"ops": channel}, [{"when": "new", "channels": ["ops"]}]):
            sentry_client.create_from_text("not waited for")
            # The receiver holds its answer for two seconds; recording is over.
            assert receiver.arrived.wait(10)
            assert not postprocess.flush(0.2)
            delivered()

    assert len(receiver.requests) == 1


def test_a_channels_repr_shows_neither_its_token_nor_its_secret():
    channel = config._channel(
        "ops",
        {"plugin": "webhook", "url": "https://hooks.example.com/T0KEN", "secret": "s3"},
    )

    assert "T0KEN" not in repr(channel) and "s3" not in repr(channel)
    assert "ops" in repr(channel)


def test_a_urls_password_is_not_shown_in_the_masked_url():
    channel = config._channel(
        "chat",
        {"plugin": "slack", "url": "https://bot:s3cret@hooks.example.com:8443/x"},
    )

    assert channel.masked_url == "https://hooks.example.com:8443/…"


@pytest.mark.parametrize("path", ["/T0KEN X", "/T0KEN\x7f", "/T0KEN\x00"])
def test_a_path_that_http_refuses_is_reported_without_its_token(path, sentry_errors):
    with Receiver() as receiver:
        channel = {"plugin": "webhook", "url": receiver.url(path)}
        with alerts({"ops": channel}, [{"when": "new", "channels": ["ops"]}]):
            sentry_client.create_from_text("odd path")
            delivered()

    assert receiver.requests == []
    [record] = [r for r in sentry_errors if "not delivered" in r.getMessage()]
    assert "T0KEN" not in record.getMessage()
    assert "T0KEN" not in str(record.exc_info)


def test_alert_settings_that_cannot_be_read_are_logged_once_not_per_event(
    sentry_errors,
):
    broken = {"logged-once": "not a dict"}
    with alerts(broken, [], SENTRY_ADMINS=["ops@example.com"]):
        for n in range(3):
            assert sentry_client.create_from_text(f"event {n}") is not None
        delivered()

    about = [r for r in sentry_errors if "logged-once" in r.getMessage()]
    assert len(about) == 1
    assert "SENTRY_ALERT" in about[0].getMessage()
    # The admins' mail goes on regardless.
    assert len(mail.outbox) == 3
