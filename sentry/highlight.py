"""
Syntax-highlight the source lines shown around a stack frame.

Optional: with Pygments installed (``pip install django-sentry[highlight]``)
each frame's context lines come as escaped HTML with token classes (styled
by ``sentry/highlight.css``); without it, :meth:`Highlighter.lines` returns
None and the page prints the plain text, as before.

The lines come from senders, so they are hostile: every one is cut to
:data:`MAX_LINE_LENGTH` characters before the lexer sees it (a page shows a
few lines per frame, and a lexer's time grows with what it reads), and the
output is Pygments' HTML formatter's, which escapes all the text it is given.
"""

import functools
import posixpath

from django.utils.safestring import mark_safe

try:
    import pygments
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound
except ImportError:  # the extra is not installed: plain text
    pygments = None

#: Longest line highlighted; the rest of a longer one is left out (the whole
#: line is still in the raw data).
MAX_LINE_LENGTH = 500
#: Most lines highlighted per frame (a frame shows about a dozen).
MAX_LINES = 64
#: Most characters of source highlighted per event: about ten frames of
#: ordinary code (Pygments' lexers take some 10 ms per 1,000 characters on a
#: busy machine, and a page has 50 ms); the frames past it are plain text.
MAX_CHARACTERS = 4_000
#: File name extension -> Pygments lexer name, for the languages of the SDKs
#: this site takes events from. A fixed table: asking Pygments to guess from a
#: file name walks every lexer it knows, on every frame.
EXTENSIONS = {
    ".py": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "jsx",
    ".ts": "typescript",
    ".tsx": "tsx",
    ".rb": "ruby",
    ".go": "go",
    ".php": "php",
    ".java": "java",
    ".kt": "kotlin",
    ".cs": "csharp",
    ".rs": "rust",
    ".html": "html",
    ".vue": "html",
}
#: An event's ``platform`` -> the lexer of its frames with no known extension.
PLATFORMS = {
    "python": "python",
    "javascript": "javascript",
    "node": "javascript",
    "ruby": "ruby",
    "go": "go",
    "php": "php",
    "java": "java",
    "csharp": "csharp",
    "rust": "rust",
}


def available():
    """Return whether context lines are highlighted (Pygments is installed)."""
    return pygments is not None


@functools.cache
def _lexer(name):
    try:
        # ensurenl: no newline added at the end; stripnl: keep blank lines.
        return get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@functools.cache
def _formatter():
    # Class names prefixed "hl-" (the stylesheet's); no wrapping <div>/<pre>.
    return HtmlFormatter(nowrap=True, classprefix="hl-")


def lexer_name(filename, platform=None):
    """Return the lexer name for a frame's file (or its event's platform)."""
    if isinstance(filename, str):
        path = filename.split("?", 1)[0].split("#", 1)[0]
        extension = posixpath.splitext(path)[1].lower()
        if extension in EXTENSIONS:
            return EXTENSIONS[extension]
    return PLATFORMS.get(platform) if isinstance(platform, str) else None


class Highlighter:
    """
    Highlight the context lines of one event's frames, within a budget.

    Past :data:`MAX_CHARACTERS` of source in one event (hundreds of frames),
    the rest are shown as plain text: the page's time stays bounded.
    """

    def __init__(self, platform=None, budget=None):
        self.platform = platform if isinstance(platform, str) else None
        self.budget = MAX_CHARACTERS if budget is None else budget
        #: Whether a frame was highlighted (the page then links the styles).
        self.used = False

    def lines(self, lines, filename=None):
        """
        Return ``lines`` as highlighted HTML, one safe string per line, or None.

        None when Pygments is missing, the language is unknown, there are
        too many lines or the budget is spent; the caller then shows the
        text as it is.
        """
        if pygments is None or not lines or len(lines) > MAX_LINES:
            return None
        name = lexer_name(filename, self.platform)
        lexer = _lexer(name) if name else None
        if lexer is None:
            return None
        # One line each, whatever the sender put in them.
        cut = [
            line[:MAX_LINE_LENGTH].replace("\r", " ").replace("\n", " ")
            for line in lines
        ]
        size = sum(map(len, cut))
        if size > self.budget:
            self.budget = 0
            return None
        self.budget -= size
        html = pygments.highlight("\n".join(cut), lexer, _formatter())
        # The formatter closes and reopens a token's <span> at each line end,
        # so every line is whole HTML on its own.
        result = html.split("\n")
        if len(result) == len(cut) + 1 and result[-1] == "":
            result.pop()
        if len(result) != len(cut):
            return None
        self.used = True
        # Pygments' formatter escapes every character of the text.
        return [mark_safe(line) for line in result]
