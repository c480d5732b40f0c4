"""Exceptions escaping Django views are recorded with their request."""

import pytest
from django.test import Client, override_settings

from sentry.models import GroupedMessage, Message
from tests.testapp.models import Widget


@pytest.fixture
def browser():
    return Client(raise_request_exception=False)


@pytest.mark.django_db
def test_a_view_exception_is_recorded_with_the_request(browser):
    response = browser.get(
        "/boom/?n=1&token=abc", HTTP_USER_AGENT="pytest", HTTP_X_TRACE="t-1"
    )

    assert response.status_code == 500
    message = Message.objects.get()
    assert message.class_name == "ValueError"
    assert message.message == "boom 1"
    assert message.url == "http://testserver/boom/?n=1&token=********"
    assert message.view == "tests.testapp.views.boom"
    request = message.data["request"]
    assert request["method"] == "GET"
    assert request["GET"] == {"n": "1", "token": "********"}
    assert request["headers"]["User-Agent"] == "pytest"
    assert request["headers"]["X-Trace"] == "t-1"
    exception = message.data["exception"]["values"][-1]
    assert exception["mechanism"] == {"type": "django", "handled": False}
    frame = exception["stacktrace"]["frames"][-1]
    assert frame["function"] == "boom"
    assert frame["vars"]["secret_local"] == "********"


@pytest.mark.django_db
def test_the_logged_in_user_is_recorded(browser, django_user_model):
    user = django_user_model.objects.create_user("jane", "jane@example.com", "pw")
    browser.force_login(user)

    browser.get("/boom/")

    assert Message.objects.get().data["user"] == {
        "id": str(user.pk),
        "username": "jane",
        "email": "jane@example.com",
    }


@pytest.mark.django_db
def test_varying_messages_from_one_view_group_together(browser):
    for n in range(5):
        browser.get(f"/boom/?n={n}")

    group = GroupedMessage.objects.get()
    assert group.times_seen == 5
    assert sorted(group.message_set.values_list("message", flat=True)) == [
        f"boom {n}" for n in range(5)
    ]


@pytest.mark.django_db
@override_settings(DEBUG=True, SENTRY_TESTING=False)
def test_nothing_is_recorded_under_debug(browser):
    browser.get("/boom/")

    assert not Message.objects.exists()


@pytest.mark.django_db
@override_settings(DEBUG=True, SENTRY_TESTING=True)
def test_sentry_testing_records_under_debug(browser):
    browser.get("/boom/")

    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_not_found_is_not_an_error(browser):
    assert browser.get("/no-such-page/").status_code == 404

    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
@override_settings(ATOMIC_REQUESTS=True)
def test_an_error_in_a_broken_request_transaction_is_recorded(browser, settings):
    settings.DATABASES["default"]["ATOMIC_REQUESTS"] = True
    try:
        response = browser.get("/broken-transaction/")
    finally:
        settings.DATABASES["default"]["ATOMIC_REQUESTS"] = False

    assert response.status_code == 500
    message = Message.objects.get()
    assert message.class_name == "IntegrityError"
    assert message.view == "tests.testapp.views.broken_transaction"
    # The request's own writes were rolled back; ours were not.
    assert not Widget.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_error_caught_inside_a_broken_atomic_block_is_recorded(browser):
    response = browser.get("/caught-in-atomic/")

    message_id = response.content.decode()
    assert len(message_id) == 32
    message = Message.objects.get(message_id=message_id)
    assert message.class_name == "IntegrityError"
    # The host's transaction was rolled back, the recorded error survived it.
    assert not Widget.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_async_view_can_record_an_error_itself(browser):
    response = browser.get("/async-caught/")

    message_id = response.content.decode()
    assert len(message_id) == 32
    assert Message.objects.get(message_id=message_id).class_name == "KeyError"


@pytest.mark.django_db(transaction=True)
def test_an_exception_escaping_an_async_view_is_recorded():
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    from sentry.alerts import store

    async def request():
        return await AsyncClient(raise_request_exception=False).get("/async-boom/")

    # The alert rules saved on the dashboard, read here rather than by the
    # capture in the async handler's thread: the test client keeps Django
    # from closing that thread's connection, which PostgreSQL's driver
    # then reports when the thread's connection is collected.
    store.saved_rows()
    response = async_to_sync(request)()

    assert response.status_code == 500
    message = Message.objects.get()
    assert message.message == "async view failed"
    assert message.view == "tests.testapp.views.async_boom"
