"""
Comments: plain text, checked on the way in, escaped and linked on the way out.

A comment is shown as its text, escaped, with line breaks kept (by the
page's style) and ``http``/``https`` addresses made links that tell the
browser neither to pass the page on (``noopener``) nor to credit the target
(``nofollow``); brackets and quotes around an address are not part of it,
a parenthesis it opens itself is. Nothing else becomes markup:
``javascript:`` and ``data:`` stay text. The text is read once, token by
token, in linear time; no regular expression runs over it.
"""

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import COMMENT, GroupActivity

#: Longest comment, in characters.
MAX_LENGTH = 5000
#: Schemes that become links.
SCHEMES = ("http://", "https://")
#: Characters that end a sentence rather than an address.
TRAILING = ".,;:!?)]}'\">"
#: Marks that change the direction text is shown in: an address with one
#: would read as another address, so it is not linked.
DIRECTION_MARKS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: Characters that open a bracket or a quote around an address.
LEADING = "(<[{'\""


class CommentError(ValueError):
    """A comment that cannot be saved: the message says why."""


def clean(text):
    """Return ``text`` ready to store; raise :class:`CommentError`."""
    if not isinstance(text, str):
        raise CommentError("'text' must be a string.")
    text = text.replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        raise CommentError("A comment cannot be empty.")
    if len(text) > MAX_LENGTH:
        raise CommentError(f"A comment is at most {MAX_LENGTH} characters.")
    return text


def add(group_id, user, text):
    """Save a comment by ``user``; return it."""
    return GroupActivity.objects.create(
        group_id=group_id, kind=COMMENT, user=user, text=clean(text)
    )


def edit(comment, text):
    """Change a comment's text (its author's only: the views check)."""
    comment.text = clean(text)
    comment.edited = timezone.now()
    comment.save(update_fields=["text", "edited"])


def render(text):
    """Return ``text`` as safe HTML: escaped, its web addresses linked."""
    parts = []
    token = []
    for char in text:
        if char.isspace():
            parts.append(_token("".join(token)))
            parts.append(escape(char))
            token = []
        else:
            token.append(char)
    parts.append(_token("".join(token)))
    return mark_safe("".join(parts))


def _token(token):
    # "(https://...)", "<https://...>": the brackets are not the address's.
    start = 0
    while start < len(token) and token[start] in LEADING:
        start += 1
    if not token[start:].lower().startswith(SCHEMES):
        return escape(token)
    # A closing parenthesis ends the address only if it closes none of its
    # own ("wiki/Foo_(bar)"): counted once, so the walk stays linear.
    opened, closed = token.count("(", start), token.count(")", start)
    end = len(token)
    while end > start and token[end - 1] in TRAILING:
        if token[end - 1] == ")":
            if closed <= opened:
                break
            closed -= 1
        end -= 1
    lead, address, rest = token[:start], token[start:end], token[end:]
    if not address.partition("://")[2] or not DIRECTION_MARKS.isdisjoint(address):
        return escape(token)
    # escape() makes the address safe inside the attribute's quotes.
    link = (
        f'<a href="{escape(address)}" rel="nofollow noopener noreferrer">'
        f"{escape(address)}</a>"
    )
    return escape(lead) + link + escape(rest)
