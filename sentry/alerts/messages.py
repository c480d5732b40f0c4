"""
What each kind of channel is sent: the same facts, in each target's format.

Every text that comes from an event (title, culprit, environment, release,
project name) is escaped for the target's markup, so an error message can
neither format the alert, nor link elsewhere, nor mention ``@channel``.
"""

import datetime
import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

from django.urls import reverse

from ..conf import settings
from ..constants import LEVEL_NAMES
from .config import event_tags

#: Longest title sent (chat messages are read at a glance).
MAX_TITLE = 300
#: Longest other text (project, culprit, environment, release) sent.
MAX_TEXT = 200
#: Longest text of a Slack section block; Slack refuses a longer one.
SLACK_SECTION = 3000
ZERO_WIDTH_SPACE = "\u200b"
#: Unicode's bidirectional embeddings, overrides and isolates: in an event's
#: text they could show the rest of a line backwards.
BIDI_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F]
)


def facts(group, event, is_new, is_regression, reason=None):
    """
    Return what an alert says about an event, as plain (unescaped) text.

    ``reason`` is ``(action, headline)``, from the rule that sends it
    (:meth:`sentry.alerts.config.Rule.reason`); without one, the event's
    state says.
    """
    tags = event_tags(event)
    path = reverse("sentry:group", kwargs={"group_id": group.pk})
    if reason is None:
        reason = (
            ("regression", "Regression")
            if is_regression
            else ("new", "New error")
            if is_new
            else ("event", "Error")
        )
    return {
        "kind": reason[0],
        "headline": reason[1],
        "project": plain(group.project.name),
        "project_slug": group.project.slug,
        "short_id": group.qualified_short_id,
        "title": plain(group.title, MAX_TITLE),
        "culprit": plain(group.view or ""),
        "level": LEVEL_NAMES.get(event.level, str(event.level)),
        "environment": plain(tags.get("environment", "")),
        "release": plain(tags.get("release", "")),
        "count": group.times_seen,
        "url": settings.URL_PREFIX.rstrip("/") + path,
        "group_id": group.pk,
        "message_id": event.message_id,
        "datetime": event.datetime.isoformat() if event.datetime else None,
        "first_seen": group.first_seen.isoformat() if group.first_seen else None,
        "last_seen": group.last_seen.isoformat() if group.last_seen else None,
        "tags": tags,
    }


def summary_facts(project, count, minute):
    """
    Return what the summary of a flood says: ``count`` more new errors.

    ``minute`` is the (UTC) minute they came in; the link is the project's
    stream, newest errors first.
    """
    query = urlencode({"project": project.slug, "sort": "new"})
    url = settings.URL_PREFIX.rstrip("/") + reverse("sentry:index") + "?" + query
    errors = "error" if count == 1 else "errors"
    return {
        "kind": "summary",
        "headline": f"{count} more new {errors}",
        "project": plain(project.name),
        "project_slug": project.slug,
        "short_id": "",
        "title": "a flood of new errors: see the stream",
        "culprit": "",
        "level": "",
        "environment": "",
        "release": "",
        "count": count,
        "url": url,
        "group_id": None,
        "message_id": None,
        "datetime": minute.isoformat(),
        "first_seen": minute.isoformat(),
        "last_seen": (minute + datetime.timedelta(minutes=1)).isoformat(),
        "tags": {},
    }


def test_facts(url):
    """Return the facts of the message "send a test notification" sends."""
    now = datetime.datetime.now(datetime.UTC).isoformat()
    return {
        "kind": "test",
        "headline": "Test notification",
        "project": "django-sentry",
        "project_slug": "",
        "short_id": "TEST",
        "title": "This channel works: alerts will look like this",
        "culprit": "",
        "level": "info",
        "environment": "",
        "release": "",
        "count": 0,
        "url": url,
        "group_id": None,
        "message_id": None,
        "datetime": now,
        "first_seen": now,
        "last_seen": now,
        "tags": {},
    }


def plain(text, limit=MAX_TEXT):
    """
    Return ``text`` on one line, without bidi controls, at most ``limit`` long.

    Any line break (``\\n``, ``\\u2028``...) would let an event's text add
    lines that look like the alert's own ("Level: fatal").
    """
    text = " ".join(text.translate(BIDI_CONTROLS).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _lines(facts, escape):
    if facts["kind"] == "summary":
        return [f"Project: {escape(facts['project'])}"]
    details = [
        ("Project", facts["project"]),
        ("Culprit", facts["culprit"]),
        ("Level", facts["level"]),
        ("Environment", facts["environment"]),
        ("Release", facts["release"]),
        ("Events", str(facts["count"]) if facts["count"] else ""),
    ]
    return [f"{name}: {escape(value)}" for name, value in details if value]


def _named(facts):
    """Return the linked text: the short id and the title (a summary has no id)."""
    return " ".join(part for part in (facts["short_id"], facts["title"]) if part)


def webhook(facts, channel):
    """Return ``(body, headers)`` of the generic webhook (see docs/alerts.rst)."""
    if facts["kind"] == "summary":
        document = {
            "action": "summary",
            "project": {"slug": facts["project_slug"], "name": facts["project"]},
            "summary": {
                "new_errors": facts["count"],
                "from": facts["first_seen"],
                "to": facts["last_seen"],
                "url": facts["url"],
            },
        }
    else:
        document = {
            "action": facts["kind"],
            "project": {"slug": facts["project_slug"], "name": facts["project"]},
            "group": {
                "id": facts["group_id"],
                "short_id": facts["short_id"],
                "title": facts["title"],
                "culprit": facts["culprit"],
                "level": facts["level"],
                "times_seen": facts["count"],
                "first_seen": facts["first_seen"],
                "last_seen": facts["last_seen"],
                "url": facts["url"],
            },
            "event": {
                "message_id": facts["message_id"],
                "datetime": facts["datetime"],
                "environment": facts["environment"] or None,
                "release": facts["release"] or None,
                "tags": facts["tags"],
            },
        }
    body = json.dumps(document, sort_keys=True).encode()
    headers = {}
    if channel.secret:
        headers.update(signature_headers(channel.secret, body))
    return body, headers


def signature_headers(secret, body, timestamp=None):
    """
    Return the headers that let a receiver check a webhook came from us.

    ``X-Sentry-Signature: sha256=<hex>``: HMAC-SHA256 with the channel's
    secret over ``<timestamp>.`` followed by the body, the timestamp (Unix
    seconds) sent in ``X-Sentry-Timestamp`` so a receiver can refuse replays.
    """
    timestamp = str(int(time.time() if timestamp is None else timestamp))
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return {
        "X-Sentry-Timestamp": timestamp,
        "X-Sentry-Signature": "sha256=" + mac.hexdigest(),
    }


def slack_escape(text):
    """Escape text for Slack's mrkdwn: ``&``, ``<`` and ``>`` (links, mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(facts, channel):
    escape = slack_escape
    head = f"*{facts['headline']}* in {escape(facts['project'])}: "
    link = f"<{facts['url']}|{escape(_named(facts))}>"
    text = head + link
    detail = "\n".join(_lines(facts, escape))
    body = {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": detail[:SLACK_SECTION]},
            },
        ],
    }
    return json.dumps(body).encode(), {}


#: Characters with a meaning in the Markdown of Mattermost, Discord, Teams.
MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~>@:")


def markdown_escape(text):
    """Escape Markdown and neutralise mentions (``@channel``, ``@everyone``)."""
    out = []
    for char in text:
        if char == "@":
            # A backslash does not stop a mention everywhere; a zero-width
            # space after the sign does.
            out.append("@" + ZERO_WIDTH_SPACE)
        elif char in MARKDOWN_SPECIAL:
            out.append("\\" + char)
        elif char in "\r\n":
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def teams_escape(text):
    """
    Neutralise Markdown for Teams' cards, which show backslashes as written.

    A zero-width space after each sign with a meaning keeps it from
    starting emphasis, a link or a list, and shows nothing.
    """
    out = []
    for char in text:
        if char in "\r\n":
            out.append(" ")
        elif char in MARKDOWN_SPECIAL:
            out.append(char + ZERO_WIDTH_SPACE)
        else:
            out.append(char)
    return "".join(out)


def _markdown_text(facts, escape=markdown_escape):
    head = (
        f"**{facts['headline']}** in {escape(facts['project'])}: "
        f"[{escape(_named(facts))}]({facts['url']})"
    )
    return head, _lines(facts, escape)


def mattermost(facts, channel):
    head, lines = _markdown_text(facts)
    return json.dumps({"text": "\n".join([head, *lines])}).encode(), {}


def discord(facts, channel):
    head, lines = _markdown_text(facts)
    body = {
        "content": "\n".join([head, *lines])[:2000],
        # No @everyone, role or user pings, whatever the text holds.
        "allowed_mentions": {"parse": []},
    }
    return json.dumps(body).encode(), {}


def teams(facts, channel):
    """An Adaptive Card, as Teams' workflow webhooks take it."""
    head, lines = _markdown_text(facts, teams_escape)
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": head, "wrap": True, "weight": "Bolder"},
            *(
                {"type": "TextBlock", "text": line, "wrap": True, "spacing": "None"}
                for line in lines
            ),
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open", "url": facts["url"]}],
    }
    body = {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }
    return json.dumps(body).encode(), {}


BUILDERS = {
    "webhook": webhook,
    "slack": slack,
    "mattermost": mattermost,
    "discord": discord,
    "teams": teams,
}
