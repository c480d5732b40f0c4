"""Sphinx configuration for the django-sentry documentation.

Build it from the repository root with ``make docs``; warnings are errors.
"""

import os
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Autodoc imports the models and the client, which need configured settings.
# The test settings are enough: they touch no database until a query runs.
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
django.setup()

import sentry  # noqa: E402  (needs the path and Django set up above)

project = "django-sentry"
author = "django-sentry contributors"
project_copyright = "django-sentry contributors"
release = sentry.__version__
version = ".".join(release.split(".")[:2])

extensions = ["sphinx.ext.autodoc"]

exclude_patterns = ["_build"]
pygments_style = "sphinx"

autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_preserve_defaults = True

html_theme = "alabaster"
html_title = f"django-sentry {release}"
html_theme_options = {
    "description": "Record, group and browse the errors of a Django site.",
    "fixed_sidebar": True,
    "show_relbars": True,
}
html_sidebars = {
    "**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]
}


def setup(app):
    # ``.. setting:: SENTRY_NAME`` declares an option and ``:setting:`` links
    # to it: a plain cross-reference target, no extension of its own needed.
    app.add_object_type(
        "setting", "setting", indextemplate="pair: %s; setting", objname="setting"
    )
