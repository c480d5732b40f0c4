"""
The stream's environment selector, remembered per user in their session.

``?environment=<name>`` narrows the stream (and its live updates and "resolve
all matching") to the errors seen in that environment -- those with a value
counter ``tag:environment`` = name, what ``environment:<name>`` searches --
and is remembered in the session, so that the stream opens there next time;
``?environment=`` (All environments) forgets it. The choices are the
environments of the projects the user may see, from ``FilterValue`` rows the
storage keeps for the key (bounded, as every filter's choices).
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

from ..filters import Filter
from ..models import MessageFilterValue
from ..params import can_be_stored
from ..tags import MAX_VALUE_LENGTH, TAG_PREFIX

#: The query parameter, and the counter key of environments.
PARAMETER = "environment"
KEY = TAG_PREFIX + "environment"
#: Where the choice is remembered.
SESSION_KEY = "sentry.environment"
#: Where a request that changes the remembered choice comes from (the
#: browser's Sec-Fetch-Site): a page of this site, or typed or bookmarked.
#: A browser that sends no such header is taken at its word.
FROM_HERE = ("same-origin", "none")


def chosen(request):
    """Return the environment the stream is at: the request's, else remembered."""
    if PARAMETER in request.GET:
        value = request.GET[PARAMETER]
    else:
        session = getattr(request, "session", None)
        value = session.get(SESSION_KEY) if session is not None else None
    return value or None


def remember(request):
    """Remember the environment the request names (none: forget it)."""
    session = getattr(request, "session", None)
    if session is None or PARAMETER not in request.GET:
        return
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in FROM_HERE:
        # A link on another site (or a mail) narrows this one page only:
        # remembered, ?environment=nothing-here would empty the stream on
        # every later visit without the user having chosen it.
        return
    value = request.GET[PARAMETER]
    if value and can_be_stored(value, MAX_VALUE_LENGTH):
        session[SESSION_KEY] = value
    else:
        session.pop(SESSION_KEY, None)


def storable(environment):
    """Return whether a counter could hold ``environment`` (no NUL, not too long)."""
    return can_be_stored(environment, MAX_VALUE_LENGTH)


def narrow(groups, environment):
    """Return the groups of ``groups`` seen in ``environment``."""
    if not storable(environment):
        return groups.none()
    seen = MessageFilterValue.objects.filter(key=KEY, value=environment)
    return groups.filter(pk__in=seen.values("group_id"))


class EnvironmentChoices(Filter):
    """The environments offered: a filter's bounded choices, for the key."""

    label = "Environment"
    column = KEY


def selector(request, stream):
    """Return what the stream's environment selector shows. One query."""
    choices = EnvironmentChoices(request).get_choices_cached()
    current = stream.environment
    offered = list(choices)[: EnvironmentChoices.max_choices]
    if current and current not in offered:
        offered.append(current)
    return {
        "choices": [(value, attribute(value)) for value in offered],
        "current": current,
    }


#: Whitespace written as character references inside an attribute.
SPACES = {ord(c): f"&#{ord(c)};" for c in " \t\n\r\f\v"}


def attribute(value):
    """
    Return ``value`` escaped for an attribute, its whitespace as references.

    A client names environments: written so, a hostile name (``x
    onmouseover=...``) reads as no attribute even to a careless scanner of
    the page, and the browser reads the same value back.
    """
    return mark_safe(escape(value).translate(SPACES))
