"""System checks report misconfiguration with stable ids."""

import pytest
from django.core import checks
from django.test import override_settings


def ids(errors):
    return sorted(error.id for error in errors)


def run_checks():
    return [e for e in checks.run_checks(databases=[]) if e.id.startswith("sentry.")]


def test_the_test_settings_are_clean():
    assert run_checks() == []


@override_settings(SENTRY_CLIENT="no.such.Client")
def test_an_unknown_client_is_an_error():
    assert ids(run_checks()) == ["sentry.E001"]


@override_settings(SENTRY_CLIENT="sentry.conf.DEFAULTS")
def test_a_client_that_is_no_class_is_an_error():
    assert ids(run_checks()) == ["sentry.E001"]


@override_settings(SENTRY_DATABASE_USING="nowhere")
def test_an_unknown_database_is_an_error():
    assert ids(run_checks()) == ["sentry.E002"]


@override_settings(SENTRY_DATABASE_USING="other")
def test_another_database_without_the_router_is_a_warning():
    assert ids(run_checks()) == ["sentry.W002"]


@override_settings(
    SENTRY_DATABASE_USING="other", DATABASE_ROUTERS=["sentry.routers.SentryRouter"]
)
def test_another_database_with_the_router_is_fine():
    assert run_checks() == []


@override_settings(SENTRY_THRASHING_LIMIT="ten", SENTRY_MAX_LENGTH_STRING=0)
def test_bad_numbers_are_errors():
    assert ids(run_checks()) == ["sentry.E003", "sentry.E003"]


@override_settings(SENTRY_CACHE_ALIAS="missing")
def test_an_unknown_cache_is_an_error():
    assert ids(run_checks()) == ["sentry.E004"]


@override_settings(SENTRY_THRASING_LIMIT=5)
def test_a_misspelt_setting_is_a_warning():
    errors = run_checks()
    assert ids(errors) == ["sentry.W003"]
    assert "SENTRY_THRASING_LIMIT" in errors[0].msg


def test_the_server_without_the_client_is_a_warning():
    from django.conf import settings

    apps = [app for app in settings.INSTALLED_APPS if app != "sentry.client"]
    with override_settings(INSTALLED_APPS=apps):
        assert ids(run_checks()) == ["sentry.W001"]


@override_settings(SENTRY_MAX_LENGTH_STRING=400.5, SENTRY_MAX_FRAMES=-1)
def test_lengths_must_be_whole_numbers():
    assert ids(run_checks()) == ["sentry.E003", "sentry.E003"]


@override_settings(SENTRY_FILTERS=["sentry.filters.StatusFilter", "no.such.Filter"])
def test_an_unimportable_filter_is_an_error():
    assert ids(run_checks()) == ["sentry.E005"]


@override_settings(SENTRY_DSN="http://key@host/1", SENTRY_RELEASE="1.0")
def test_the_sdk_settings_are_no_misspellings():
    assert run_checks() == []


def test_the_database_client_without_the_server_is_an_error():
    from django.conf import settings

    apps = [app for app in settings.INSTALLED_APPS if app != "sentry"]
    with override_settings(INSTALLED_APPS=apps):
        assert ids(run_checks()) == ["sentry.E006"]
    with override_settings(
        INSTALLED_APPS=apps, SENTRY_CLIENT="sentry.client.base.LoggingSentryClient"
    ):
        assert run_checks() == []


@pytest.mark.parametrize("limit", ["fast", -1, float("nan"), float("inf"), True])
def test_a_capture_time_limit_that_is_no_number_of_seconds_is_an_error(limit):
    with override_settings(SENTRY_CAPTURE_TIME_LIMIT=limit):
        errors = run_checks()
    assert ids(errors) == ["sentry.E003"]
    assert "SENTRY_CAPTURE_TIME_LIMIT" in errors[0].msg


@pytest.mark.parametrize("limit", [None, 0, 0.2, 1])
def test_a_capture_time_limit_may_be_seconds_or_none(limit):
    with override_settings(SENTRY_CAPTURE_TIME_LIMIT=limit):
        assert run_checks() == []


@override_settings(SENTRY_QUEUE_SET_ASIDE_DAYS="week")
def test_set_aside_days_must_be_a_number():
    assert ids(run_checks()) == ["sentry.E003"]
