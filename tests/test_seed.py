"""The original documentation's snippets, executed as written (Python 3)."""

import logging

import pytest

pytestmark = pytest.mark.django_db


def test_pull_the_last_10_unresolved_errors():
    from sentry.client.models import client
    from sentry.models import GroupedMessage, Message

    for n in range(12):
        client.create_from_text(f"distinct message {n}")

    # Pull the last 10 unresolved errors.
    latest = GroupedMessage.objects.filter(status=0).order_by("-last_seen")[0:10]

    assert len(latest) == 10
    assert latest[0].message == "distinct message 11"
    assert Message.objects.count() == 12


def test_record_errors_outside_of_the_handler():
    from sentry.client.models import client

    try:
        1 / 0
    except Exception as exc:  # noqa: F841  (the seed's spelling)
        message_id = client.create_from_exception()

    assert isinstance(message_id, str) and len(message_id) == 32

    try:
        1 / 0
    except Exception as exc:  # noqa: F841
        message_id = client.create_from_exception(exc_info=None, url=None, view=None)

    assert isinstance(message_id, str) and len(message_id) == 32


def test_log_normal_messages():
    from sentry.client.models import client
    from sentry.models import Message

    message_id = client.create_from_text("Message Message")
    assert Message.objects.get(message_id=message_id).level == logging.ERROR

    message_id = client.create_from_text(
        "Message Message", level=logging.WARNING, url=None
    )
    assert Message.objects.get(message_id=message_id).level == logging.WARNING


@pytest.mark.parametrize(
    "level",
    [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.FATAL],
)
def test_every_documented_level_is_accepted(level):
    from sentry.client.models import client
    from sentry.models import GroupedMessage, Message

    message_id = client.create_from_text("levelled", level=level)

    message = Message.objects.get(message_id=message_id)
    assert message.level == level
    assert GroupedMessage.objects.get(pk=message.group_id).level == level


def test_skip_sentry_on_the_exception_class():
    from sentry.client.models import client
    from sentry.models import Message

    class Ignorable(Exception):
        skip_sentry = True

    try:
        raise Ignorable("not an error")
    except Exception:
        assert client.create_from_exception() is None
    assert not Message.objects.exists()


def test_skip_sentry_on_the_exception_instance():
    from sentry.client.models import client
    from sentry.models import Message

    exc = ValueError("not this one")
    exc.skip_sentry = True
    try:
        raise exc
    except Exception:
        assert client.create_from_exception() is None
    assert not Message.objects.exists()
