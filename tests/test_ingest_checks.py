"""System checks of the remote and ingest settings."""

from django.conf import settings
from django.test import override_settings

from tests.test_checks import ids, run_checks


@override_settings(SENTRY_REMOTE_URL="https://errors.example.com/sentry/store/")
def test_a_remote_url_without_a_key_is_an_error():
    assert ids(run_checks()) == ["sentry.E012"]


@override_settings(SENTRY_REMOTE_URL=["ftp://x/", "errors.example.com"], SENTRY_KEY="k")
def test_remote_urls_must_be_http_urls():
    assert ids(run_checks()) == ["sentry.E013", "sentry.E013"]


@override_settings(SENTRY_INGEST_CORS_ORIGINS="https://shop.example.com")
def test_cors_origins_must_be_a_list():
    assert ids(run_checks()) == ["sentry.E014"]


@override_settings(
    SENTRY_REMOTE_QUEUE_SIZE=0,
    SENTRY_INGEST_MAX_EVENT_SIZE="1 MiB",
    SENTRY_REMOTE_MAX_AGE=-1,
)
def test_the_new_numbers_are_checked():
    assert ids(run_checks()) == ["sentry.E003"] * 3


def test_a_reporting_site_needs_no_sentry_app():
    apps = [app for app in settings.INSTALLED_APPS if app != "sentry"]
    with override_settings(
        INSTALLED_APPS=apps,
        SENTRY_REMOTE_URL="https://errors.example.com/sentry/store/",
        SENTRY_KEY="k",
    ):
        assert run_checks() == []
