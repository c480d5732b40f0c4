"""
The alert channels and rules declared in settings, shown read-only.

Open to staff who may read the client keys (never ``SENTRY_PUBLIC``: the
page names where alerts go). Channel URLs are shown masked: their path
holds the receiver's token. Staff with ``sentry.change_project`` may send a
channel a test message from here.
"""

from django.apps import apps
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from ..alerts import config, outbound
from ..alerts.plugin import send_test
from ..constants import LEVEL_NAMES
from ..projects import visible_projects
from .access import can_change_projects, can_see_keys, dashboard_view

SEE = "Alert channels are shown to staff who may read the dashboard."
TEST = "Sending a test notification needs the sentry.change_project permission."


@dashboard_view(allow=can_see_keys, reason=SEE)
def alerts(request):
    """List the channels and rules of the settings, and what is wrong with them."""
    return render_alerts(request)


@dashboard_view(allow=can_change_projects, reason=TEST)
@require_POST
@csrf_protect
def test_channel(request, name):
    """Send one channel a test message now; show what happened."""
    try:
        channel = config.channels().get(name)
    except config.ConfigError:
        channel = None
    if channel is None:
        raise Http404("No such channel.")
    url = request.build_absolute_uri(reverse("sentry:alerts"))
    try:
        result = {"name": name, "ok": True, "text": send_test(channel, url)}
    except outbound.DeliveryError as exc:
        result = {"name": name, "ok": False, "text": exc.reason}
    except Exception as exc:
        # A mail server's error: its type says enough, its text may hold
        # an address.
        result = {"name": name, "ok": False, "text": type(exc).__name__}
    return render_alerts(request, result)


def render_alerts(request, result=None):
    error = ""
    try:
        channels = config.channels()
        rules = config.rules(channels)
    except config.ConfigError as exc:
        channels, rules, error = {}, [], str(exc)
    visible = set(visible_projects(request.user).values_list("slug", flat=True))
    return TemplateResponse(
        request,
        "sentry/alerts.html",
        {
            "channels": [_channel_row(c) for c in channels.values()],
            "rules": [_rule_row(rule, visible) for rule in rules],
            "error": error,
            "result": result,
            "can_test": can_change_projects(request.user),
            "allowed_networks": config.settings.ALERTS_ALLOWED_NETWORKS,
        },
    )


def _channel_row(channel):
    app = config.KINDS[channel.kind]
    return {
        "name": channel.name,
        "kind": channel.kind,
        "target": ", ".join(channel.to)
        if channel.kind == "mail"
        else channel.masked_url,
        "signed": bool(channel.secret),
        "installed": channel.kind == "mail" or apps.is_installed(app),
        "app": app,
    }


def _rule_row(rule, visible):
    filters = []
    if rule.project:
        # Another project's slug is not shown to staff who may not see it.
        filters.append(
            ("project", rule.project if rule.project in visible else "(hidden)")
        )
    if rule.level:
        filters.append(("level", f"{LEVEL_NAMES.get(rule.level, rule.level)} or worse"))
    for name in ("environment", "release", "logger"):
        if getattr(rule, name):
            filters.append((name, getattr(rule, name)))
    filters += [(f"tag {key}", value) for key, value in rule.tags]
    return {
        "when": rule.describe(),
        "channels": rule.channels,
        "filters": filters,
    }
