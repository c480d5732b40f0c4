"""The documentation keeps up with the settings and the system checks."""

import re
from pathlib import Path

import pytest

from sentry.conf import DEFAULTS, PREFIX

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = ROOT / "docs" / "configuration.rst"
CHECKS = ROOT / "sentry" / "checks.py"

CHECK_ID_RE = re.compile(r"sentry\.[EW]\d{3}")
SETTING_RE = re.compile(r"^\.\. setting:: (\S+)\s*$", re.MULTILINE)


def configuration_page():
    return CONFIGURATION.read_text(encoding="utf-8")


def documented_settings():
    return SETTING_RE.findall(configuration_page())


def check_ids():
    return sorted(set(CHECK_ID_RE.findall(CHECKS.read_text(encoding="utf-8"))))


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_every_setting_has_an_entry_in_the_configuration_page(name):
    assert PREFIX + name in documented_settings(), (
        f"docs/configuration.rst has no '.. setting:: {PREFIX}{name}' entry"
    )


def test_the_configuration_page_documents_no_unknown_setting():
    known = {PREFIX + name for name in DEFAULTS}

    assert [name for name in documented_settings() if name not in known] == []


def test_each_setting_is_documented_once():
    names = documented_settings()

    assert sorted(name for name in set(names) if names.count(name) > 1) == []


def test_the_checks_module_defines_check_ids():
    # Guards the next test against a regex that silently finds nothing.
    assert check_ids()


@pytest.mark.parametrize("check_id", check_ids())
def test_every_system_check_id_is_in_the_configuration_page(check_id):
    assert re.search(rf"{re.escape(check_id)}\b", configuration_page()), (
        f"docs/configuration.rst does not mention {check_id}"
    )
