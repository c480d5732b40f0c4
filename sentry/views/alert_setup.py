"""
Create, edit, disable and delete the alert channels and rules saved here.

Every page and action needs ``sentry.change_project`` (as the test button
does); a channel or rule of a project the user may not see is a 404, and
the project choices are the projects they see. Forms are POSTed with a CSRF
token; a saved form redirects to the Alerts page, never to an address taken
from the request. A saved URL or secret never comes back to the browser.
"""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from ..alerts import config
from ..alerts.forms import ChannelForm, RuleForm, rules_naming
from ..alerts.models import AlertChannel, AlertRule
from ..db import get_write_alias
from ..models import Project
from ..projects import sees_every_project, visible_projects
from .access import can_change_projects, dashboard_view

CHANGE = "Setting alerts up needs the sentry.change_project permission."
EVERY = (
    "A channel or rule for every project is set up by staff who see every "
    "project: it would send the errors of projects hidden from you."
)

#: What the Alerts page says after a change (``?done=<action>``).
DONE = {
    "channel-added": "Channel saved.",
    "channel-saved": "Channel saved.",
    "channel-deleted": "Channel deleted.",
    "rule-added": "Rule saved.",
    "rule-saved": "Rule saved.",
    "rule-deleted": "Rule deleted.",
}


def _scoped(queryset, user):
    """Narrow saved channels or rules to the global ones and the user's projects."""
    from django.db.models import Q

    return queryset.filter(
        Q(project__isnull=True) | Q(project__in=visible_projects(user))
    )


def sees_all(user):
    """
    Return whether no project is hidden from ``user``.

    Only then may they set up, change or delete a channel or rule of no
    project: it serves every project's errors, restricted ones too.
    """
    if sees_every_project(user):
        return True
    return not Project.objects.exclude(
        pk__in=visible_projects(user).values("pk")
    ).exists()


def _get(model, pk, user):
    row = _scoped(model.objects.all(), user).filter(pk=pk).first()
    if row is None:
        raise Http404("No such channel or rule.")
    if row.project_id is None and not sees_all(user):
        raise PermissionDenied(EVERY)
    return row


def done(action):
    return HttpResponseRedirect(f"{reverse('sentry:alerts')}?done={action}")


# --- channels -------------------------------------------------------------------


@dashboard_view(allow=can_change_projects, reason=CHANGE)
@require_http_methods(["GET", "POST"])
@csrf_protect
def channel_add(request):
    """Show the form for a new channel; save it from the POSTed form."""
    return _channel_form(request, AlertChannel(), "channel-added")


@dashboard_view(allow=can_change_projects, reason=CHANGE)
@require_http_methods(["GET", "POST"])
@csrf_protect
def channel_edit(request, channel_id):
    """Show a channel's form (without its URL or secret); save it."""
    channel = _get(AlertChannel, channel_id, request.user)
    return _channel_form(request, channel, "channel-saved")


def _channel_form(request, channel, action):
    projects = visible_projects(request.user)
    every = sees_all(request.user)
    if request.method != "POST":
        form = ChannelForm(instance=channel, projects=projects, every=every)
        return _render(request, "channel", form, channel, status=200)
    form = ChannelForm(request.POST, instance=channel, projects=projects, every=every)
    if form.is_valid():
        try:
            with transaction.atomic(using=get_write_alias(AlertChannel)):
                form.save()
        except IntegrityError:
            # Taken by another request since the form was checked.
            form.add_error("name", "A channel of this name exists.")
        else:
            return done(action)
    return _render(request, "channel", form, channel, status=400)


@dashboard_view(allow=can_change_projects, reason=CHANGE)
@require_POST
@csrf_protect
def channel_delete(request, channel_id):
    """Delete a channel that no saved rule sends to."""
    channel = _get(AlertChannel, channel_id, request.user)
    using = rules_naming(channel.name)
    if using:
        from .alerts import render_alerts

        reason = (
            f"Channel “{channel.name}” is not deleted: "
            + ", ".join(f"rule {rule.pk}" for rule in using)
            + " send to it. Edit or delete them first."
        )
        return render_alerts(request, refused=reason, status=409)
    channel.delete()
    return done("channel-deleted")


# --- rules ----------------------------------------------------------------------


@dashboard_view(allow=can_change_projects, reason=CHANGE)
@require_http_methods(["GET", "POST"])
@csrf_protect
def rule_add(request):
    """Show the form for a new rule; save it from the POSTed form."""
    return _rule_form(request, None, "rule-added")


@dashboard_view(allow=can_change_projects, reason=CHANGE)
@require_http_methods(["GET", "POST"])
@csrf_protect
def rule_edit(request, rule_id):
    """Show a rule's form; save it."""
    return _rule_form(request, _get(AlertRule, rule_id, request.user), "rule-saved")


def _rule_form(request, rule, action):
    options = {
        "projects": visible_projects(request.user),
        "channels": channel_owners(request.user),
        "instance": rule,
        "every": sees_all(request.user),
    }
    if request.method != "POST":
        return _render(request, "rule", RuleForm(**options), rule, status=200)
    form = RuleForm(request.POST, **options)
    if form.is_valid():
        with transaction.atomic(using=get_write_alias(AlertRule)):
            form.save()
        return done(action)
    return _render(request, "rule", form, rule, status=400)


def channel_owners(user):
    """Return ``{name: project id or None}``: the channels a rule may name."""
    try:
        owners = dict.fromkeys(config.channels())
    except config.ConfigError:
        owners = {}
    rows = _scoped(AlertChannel.objects.all(), user).values_list("name", "project")
    for name, project_id in rows:
        owners.setdefault(name, project_id)
    return owners


@dashboard_view(allow=can_change_projects, reason=CHANGE)
@require_POST
@csrf_protect
def rule_delete(request, rule_id):
    """Delete a rule."""
    _get(AlertRule, rule_id, request.user).delete()
    return done("rule-deleted")


def _render(request, what, form, row, *, status):
    return TemplateResponse(
        request,
        "sentry/alerts/form.html",
        {"what": what, "form": form, "row": row},
        status=status,
    )
