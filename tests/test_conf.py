"""sentry.conf.settings: options kept once read, forgotten when a setting changes."""

import pytest
from django.test import override_settings

from sentry.conf import DEFAULTS
from sentry.conf import settings as sentry_settings

DEFAULT_SIZE = DEFAULTS["INGEST_MAX_EVENT_SIZE"]


def test_an_option_read_before_an_override_is_read_again_inside_and_after_it():
    assert sentry_settings.INGEST_MAX_EVENT_SIZE == DEFAULT_SIZE

    with override_settings(SENTRY_INGEST_MAX_EVENT_SIZE=1234):
        assert sentry_settings.INGEST_MAX_EVENT_SIZE == 1234

    assert sentry_settings.INGEST_MAX_EVENT_SIZE == DEFAULT_SIZE


def test_the_settings_fixture_changes_an_option_already_read(settings):
    assert sentry_settings.INGEST_SITE is None

    settings.SENTRY_INGEST_SITE = "edge"
    assert sentry_settings.INGEST_SITE == "edge"

    settings.SENTRY_INGEST_SITE = "core"
    assert sentry_settings.INGEST_SITE == "core"


def test_the_settings_fixture_leaves_no_option_behind():
    # Its teardown (override_settings' disable) sends setting_changed too.
    assert sentry_settings.INGEST_SITE is None


def test_an_unknown_option_is_an_attribute_error_every_time():
    for _ in range(2):
        with pytest.raises(AttributeError):
            sentry_settings.NO_SUCH_OPTION  # noqa: B018
