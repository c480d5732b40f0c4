"""
Set-up snippets: the few lines that point each official Sentry SDK at a DSN.

Shown on the dashboard's set-up page and printed by ``manage.py
sentry_createkey``, so both say the same. Each snippet quotes the DSN as a
string literal of its own language (a DSN is ours, but a key's text may have
been typed in the admin): the page escapes the result again as HTML.
"""

import json
from dataclasses import dataclass


def double_quoted(text):
    """Return ``text`` as a double-quoted literal of Python, JavaScript, Go or Java."""
    # JSON's escapes (\", \\, \uXXXX for the rest) mean the same in all four.
    return json.dumps(text)


def single_quoted(text):
    """Return ``text`` as a single-quoted literal of Ruby or PHP (no interpolation)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class Platform:
    """An SDK: its name, the language of its snippet, how to install it, the code."""

    slug: str
    name: str
    language: str
    install: str
    template: str
    quote: object = double_quoted
    note: str = ""

    def snippet(self, dsn):
        """Return the set-up code for ``dsn``."""
        return self.template.replace("DSN", self.quote(dsn))


PYTHON = Platform(
    slug="python",
    name="Python / Django",
    language="python",
    install='pip install "sentry-sdk[django]"',
    template="import sentry_sdk\n\nsentry_sdk.init(dsn=DSN)\n",
    note=(
        "In a Django project, put it in settings.py: the Django integration "
        "turns itself on when Django is installed."
    ),
)

PLATFORMS = (
    PYTHON,
    Platform(
        slug="browser",
        name="Browser JavaScript",
        language="javascript",
        install="npm install @sentry/browser",
        template=(
            'import * as Sentry from "@sentry/browser";\n\nSentry.init({ dsn: DSN });\n'
        ),
        note="Run it before the rest of the page's code.",
    ),
    Platform(
        slug="node",
        name="Node.js",
        language="javascript",
        install="npm install @sentry/node",
        template=(
            'const Sentry = require("@sentry/node");\n\nSentry.init({ dsn: DSN });\n'
        ),
        note=(
            "Put it in instrument.js and load that first: "
            "node --require ./instrument.js app.js"
        ),
    ),
    Platform(
        slug="go",
        name="Go",
        language="go",
        install="go get github.com/getsentry/sentry-go",
        template=(
            "err := sentry.Init(sentry.ClientOptions{Dsn: DSN})\n"
            "if err != nil {\n"
            '\tlog.Fatalf("sentry.Init: %s", err)\n'
            "}\n"
            "defer sentry.Flush(2 * time.Second)\n"
        ),
        note=(
            'In main(), with "log", "time" and "github.com/getsentry/sentry-go" '
            "imported."
        ),
    ),
    Platform(
        slug="ruby",
        name="Ruby",
        language="ruby",
        install="gem install sentry-ruby",
        template=(
            "require 'sentry-ruby'\n\n"
            "Sentry.init do |config|\n"
            "  config.dsn = DSN\n"
            "end\n"
        ),
        quote=single_quoted,
        note="In Rails, add the sentry-rails gem and put this in an initializer.",
    ),
    Platform(
        slug="php",
        name="PHP",
        language="php",
        install="composer require sentry/sentry",
        template="\\Sentry\\init(['dsn' => DSN]);\n",
        quote=single_quoted,
        note="Call it as early as possible, after Composer's autoloader.",
    ),
    Platform(
        slug="java",
        name="Java",
        language="java",
        install="Maven or Gradle: io.sentry:sentry",
        template=(
            "import io.sentry.Sentry;\n\n"
            "Sentry.init(options -> {\n"
            "    options.setDsn(DSN);\n"
            "});\n"
        ),
        note="Call it at the start of main().",
    ),
)


def python_snippet(dsn):
    """Return the Python set-up code for ``dsn`` (as ``sentry_createkey`` prints it)."""
    return PYTHON.snippet(dsn)


def snippets(dsn):
    """Return ``[(platform, code)]`` for every platform, filled in with ``dsn``."""
    return [(platform, platform.snippet(dsn)) for platform in PLATFORMS]
