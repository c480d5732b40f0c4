"""
The Alerts page: the channels and rules of the settings (read-only) and of
the dashboard (editable, see :mod:`sentry.views.alert_setup`), and the
delivery log.

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
from ..alerts.forms import describe_when
from ..alerts.models import AlertChannel, AlertDelivery, AlertRule
from ..alerts.plugin import send_test
from ..constants import LEVEL_NAMES
from ..models import GroupedMessage
from ..projects import visible_groups, visible_projects
from .access import can_change_projects, can_see_keys, dashboard_view
from .alert_setup import DONE, _scoped, sees_all

SEE = "Alert channels are shown to staff who may read the dashboard."
TEST = "Sending a test notification needs the sentry.change_project permission."
#: Deliveries the page lists, newest first.
LOG_ROWS = 50


@dashboard_view(allow=can_see_keys, reason=SEE)
def alerts(request):
    """List the channels and rules of the settings, and what is wrong with them."""
    return render_alerts(request)


@dashboard_view(allow=can_change_projects, reason=TEST)
@require_POST
@csrf_protect
def test_channel(request, name):
    """Send one channel a test message now; show what happened."""
    channel = _find_channel(request.user, name)
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


def _find_channel(user, name):
    """Return the declared or saved channel ``name`` (disabled ones too), or None."""
    try:
        channel = config.channels().get(name)
    except config.ConfigError:
        channel = None
    if channel is not None:
        return channel
    row = _scoped(AlertChannel.objects.filter(name=name), user).first()
    if row is None:
        return None
    try:
        return config._channel(row.name, row.spec())
    except config.ConfigError:
        return None


def render_alerts(request, result=None, refused="", status=200):
    error = ""
    try:
        channels = config.channels()
        rules = config.rules(channels)
    except config.ConfigError as exc:
        channels, rules, error = {}, [], str(exc)
    projects = visible_projects(request.user)
    visible = set(projects.values_list("slug", flat=True))
    saved_channels = list(
        _scoped(AlertChannel.objects.select_related("project"), request.user)
    )
    saved_rules = list(
        _scoped(AlertRule.objects.select_related("project"), request.user)
    )
    can_test = can_change_projects(request.user)
    return TemplateResponse(
        request,
        "sentry/alerts.html",
        {
            "channels": [_channel_row(c) for c in channels.values()],
            "rules": [_rule_row(rule, visible) for rule in rules],
            "saved_channels": [_saved_channel_row(c) for c in saved_channels],
            "saved_rules": [_saved_rule_row(r) for r in saved_rules],
            "deliveries": deliveries(request.user),
            "error": error,
            "result": result,
            "refused": refused,
            "done": DONE.get(request.GET.get("done", ""), ""),
            "can_test": can_test,
            # Rows of no project: set up by staff no project is hidden from.
            "every_project": can_test and sees_all(request.user),
            "allowed_networks": config.settings.ALERTS_ALLOWED_NETWORKS,
        },
        status=status,
    )


def deliveries(user):
    """
    Return the newest :data:`LOG_ROWS` deliveries, as rows to show: two queries.

    A delivery about a group of a project ``user`` may not see is shown
    without its group.
    """
    entries = list(AlertDelivery.objects.order_by("-id")[:LOG_ROWS])
    ids = {entry.group_id for entry in entries if entry.group_id is not None}
    shown = {}
    if ids:
        groups = visible_groups(GroupedMessage.objects.filter(pk__in=ids), user)
        shown = {group.pk: group for group in groups.select_related("project")}
    return [
        {
            "channel": entry.channel,
            "rule": _rule_name(entry.rule),
            "group": shown.get(entry.group_id),
            "hidden": entry.group_id is not None and entry.group_id not in shown,
            "date": entry.date,
            "ok": entry.ok,
            "status": entry.status,
            "error": entry.error,
            "attempts": entry.attempts,
        }
        for entry in entries
    ]


def _rule_name(key):
    kind, _, rest = key.partition(":")
    if kind == "db":
        return f"rule {rest}"
    if kind == "settings":
        return f"settings rule {rest}"
    return key


def _saved_channel_row(channel):
    app = config.KINDS.get(channel.kind, "")
    return {
        "pk": channel.pk,
        "name": channel.name,
        "kind": channel.kind,
        "project": channel.project,
        "target": channel.to if channel.kind == "mail" else channel.masked_url,
        "signed": bool(channel.secret),
        "enabled": channel.enabled,
        "installed": channel.kind == "mail" or apps.is_installed(app),
        "app": app,
    }


def _saved_rule_row(rule):
    filters = []
    if rule.project is not None:
        filters.append(("project", rule.project.slug))
    if rule.level:
        filters.append(("level", f"{LEVEL_NAMES.get(rule.level, rule.level)} or worse"))
    for name in ("environment", "release", "logger"):
        if getattr(rule, name):
            filters.append((name, getattr(rule, name)))
    if isinstance(rule.tags, dict):
        filters += [(f"tag {key}", value) for key, value in rule.tags.items()]
    if rule.every:
        filters.append(("at most once every", f"{rule.every} min per error"))
    if rule.flood_limit is not None:
        filters.append(("summary after", f"{rule.flood_limit} a minute"))
    return {
        "pk": rule.pk,
        "project_id": rule.project_id,
        "when": describe_when(rule.when),
        "channels": rule.channel_names,
        "filters": filters,
        "enabled": rule.enabled,
    }


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
        # A declared name may hold a slash, which no test URL can carry.
        "testable": "/" not in channel.name,
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
