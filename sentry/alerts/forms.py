"""
The dashboard's forms for alert channels and rules.

What a form accepts is what :mod:`sentry.alerts.config` reads from settings:
each form builds the settings' spec of its row and hands it to the same
parser, so the dashboard can never save a channel or rule the deliveries
would refuse. A saved URL or secret is never sent back to the browser: the
fields come empty, and left empty they keep what was saved.
"""

import json
import re
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ..constants import LOG_LEVELS
from . import config
from .models import URL_MAX_LENGTH, AlertChannel, AlertRule

#: Why a user some project is hidden from must choose a project.
EVERY_PROJECT = (
    "Choose a project: a channel or rule for every project is set up by staff "
    "who see every project."
)
#: A channel's name: it is typed in rules and sits in the test URL.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
#: Conditions offered, in the order shown, if the parser reads them (the
#: frequency ones come with the rules that understand them).
CONDITIONS = (
    ("new", "A new error", "new"),
    ("regression", "A regression", "regression"),
    ("unmute", "An error unmuted", "unmute"),
    ("events", "More than N events in M minutes", {"events": 1, "minutes": 1}),
    ("reaches", "The first time an error reaches N events", {"reaches": 1}),
)
MAX_TAGS = 20


def _message(exc):
    # "channel 'x': 'url' must be ..." -> "'url' must be ..."
    return str(exc).split(": ", 1)[-1]


class ChannelForm(forms.ModelForm):
    """Create or edit a channel; its name is kept once made."""

    class Meta:
        model = AlertChannel
        fields = ("name", "kind", "project", "url", "secret", "to", "enabled")
        widgets = {
            "url": forms.TextInput(
                attrs={"autocomplete": "off", "spellcheck": "false"}
            ),
            "secret": forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        }
        help_texts = {
            "url": "The receiver's http or https address (webhook, Slack, "
            "Mattermost, Discord or Teams incoming webhook).",
            "secret": "Webhooks only: signs each request (HMAC-SHA256); optional.",
        }

    def __init__(self, *args, projects, every=True, **kwargs):
        """``every``: whether the user may set a channel up for every project."""
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        self.fields["project"].required = not every
        if not every:
            self.fields["project"].error_messages["required"] = EVERY_PROJECT
        self.saved_url = self.instance.url if self.instance.pk else ""
        self.saved_secret = self.instance.secret if self.instance.pk else ""
        if self.instance.pk:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "Rules name it: kept as made."
            # Never sent back: the placeholder shows what is kept.
            self.initial["url"] = ""
            self.initial["secret"] = ""
            if self.saved_url:
                self.fields["url"].widget.attrs["placeholder"] = (
                    self.instance.masked_url
                )
                self.fields[
                    "url"
                ].help_text = (
                    f"Saved: {self.instance.masked_url} — leave empty to keep it."
                )
            if self.saved_secret:
                self.fields["secret"].help_text = (
                    "A secret is saved: leave empty to keep it; type a new one "
                    "to replace it."
                )
        self.fields["url"].widget.attrs["maxlength"] = URL_MAX_LENGTH

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if self.instance.pk:
            return self.instance.name
        if not NAME.fullmatch(name):
            raise ValidationError(
                "Use letters, digits, dots, hyphens and underscores, starting "
                "with a letter or a digit."
            )
        try:
            declared = config.settings.ALERT_CHANNELS
        except Exception:
            declared = {}
        if isinstance(declared, dict) and name in declared:
            raise ValidationError(
                "SENTRY_ALERT_CHANNELS declares a channel of this name: choose another."
            )
        return name

    def clean_url(self):
        url = self.cleaned_data.get("url", "").strip()
        if not url:
            return self.saved_url
        if len(url) > URL_MAX_LENGTH:
            raise ValidationError(f"A URL has at most {URL_MAX_LENGTH} characters.")
        try:
            parts = urlsplit(url)
        except ValueError:
            raise ValidationError("This URL cannot be read.") from None
        if parts.scheme not in ("http", "https"):
            raise ValidationError("Only http and https URLs are sent to.")
        if parts.username is not None or parts.password is not None:
            # They would be shown, logged and sent as part of the address.
            raise ValidationError("A URL with a user name or password is refused.")
        return url

    def clean_secret(self):
        secret = self.cleaned_data.get("secret", "")
        return secret or self.saved_secret

    def clean_to(self):
        addresses = [
            a.strip() for a in self.cleaned_data.get("to", "").split(",") if a.strip()
        ]
        for address in addresses:
            validate_email(address)
        return ", ".join(addresses)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        kind = data.get("kind")
        row = AlertChannel(
            name=data.get("name") or self.instance.name,
            kind=kind,
            url=data.get("url", "") if kind != "mail" else "",
            secret=data.get("secret", "") if kind == "webhook" else "",
            to=data.get("to", "") if kind == "mail" else "",
        )
        try:
            config._channel(row.name, row.spec())
        except config.ConfigError as exc:
            field = "to" if kind == "mail" else "url"
            self.add_error(field, _message(exc))
            return data
        # A field of another kind is not kept (a Slack channel has no secret).
        data["url"], data["secret"], data["to"] = row.url, row.secret, row.to
        if self.instance.pk and self.instance.project_id != getattr(
            data.get("project"), "pk", None
        ):
            using = [
                rule.pk
                for rule in rules_naming(self.instance.name)
                if data.get("project") is not None
                and rule.project_id != data["project"].pk
            ]
            if using:
                self.add_error(
                    "project",
                    "Rules of other projects use this channel: "
                    + ", ".join(f"rule {pk}" for pk in using),
                )
        return data


def rules_naming(name):
    """Return the saved rules that send to the channel ``name``."""
    return [rule for rule in AlertRule.objects.all() if name in rule.channel_names]


def conditions():
    """Return ``[(value, label, when)]``: the conditions the parser reads."""
    probe = {"probe": config.Channel("probe", "mail", to=("a@example.com",))}
    found = []
    for value, label, when in CONDITIONS:
        try:
            config._rule(0, {"when": when, "channels": ["probe"]}, probe)
        except config.ConfigError:
            continue
        found.append((value, label, when))
    return found


class RuleForm(forms.Form):
    """Create or edit a rule: a condition, channels, filters."""

    condition = forms.ChoiceField(label="When")
    events = forms.IntegerField(
        label="N events", required=False, min_value=1, max_value=10**9
    )
    minutes = forms.IntegerField(
        label="in M minutes", required=False, min_value=1, max_value=7 * 24 * 60
    )
    reaches = forms.IntegerField(
        label="reaches N events", required=False, min_value=1, max_value=10**12
    )
    channels = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, help_text="Where the alert goes."
    )
    project = forms.ModelChoiceField(
        queryset=None, required=False, help_text="Empty: every project's errors."
    )
    level = forms.TypedChoiceField(
        label="Minimum level",
        coerce=int,
        choices=[(0, "any")] + [(level, name) for level, name in LOG_LEVELS],
        initial=0,
    )
    environment = forms.CharField(required=False, max_length=200)
    release = forms.CharField(required=False, max_length=200)
    logger = forms.CharField(required=False, max_length=64)
    tags = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One tag a line: name=value; all must match.",
    )
    every = forms.IntegerField(
        label="At most one message per error every (minutes)",
        required=False,
        min_value=0,
        max_value=config.MAX_EVERY,
        help_text="Empty or 0: no limit. Not for new errors or reaches N.",
    )
    flood_limit = forms.IntegerField(
        label="Summary after (messages a minute)",
        required=False,
        min_value=0,
        max_value=config.MAX_FLOOD_LIMIT,
        help_text=(
            "New errors only: past this many messages in a minute, one summary. "
            "Empty: the site's setting; 0: never summed up."
        ),
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, projects, channels, instance=None, every=True, **kwargs):
        """
        ``channels`` maps the names offered to their project's id (or None);
        ``every``: whether the user may set a rule up for every project.
        """
        self.instance = instance or AlertRule()
        self.known = channels
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_of(instance)
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        if not every:
            self.fields["project"].required = True
            self.fields["project"].help_text = ""
            self.fields["project"].error_messages["required"] = EVERY_PROJECT
        self.offered = conditions()
        self.fields["condition"].choices = [(v, label) for v, label, _ in self.offered]
        self.fields["channels"].choices = [(name, name) for name in sorted(channels)]

    def clean_tags(self):
        tags = {}
        for line in self.cleaned_data.get("tags", "").splitlines():
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                raise ValidationError(f"Write each tag as name=value (not {line!r}).")
            tags[name.strip()[:32]] = value.strip()[:200]
        if len(tags) > MAX_TAGS:
            raise ValidationError(f"At most {MAX_TAGS} tags.")
        return tags

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        condition = data["condition"]
        if condition == "events":
            if not data.get("events") or not data.get("minutes"):
                raise ValidationError("Give N events and M minutes.")
            when = {"events": data["events"], "minutes": data["minutes"]}
        elif condition == "reaches":
            if not data.get("reaches"):
                raise ValidationError("Give the number of events to reach.")
            when = {"reaches": data["reaches"]}
        else:
            when = condition
        project = data.get("project")
        for name in data["channels"]:
            owner = self.known[name]
            if owner is not None and owner != getattr(project, "pk", None):
                self.add_error(
                    "channels",
                    f"Channel {name!r} serves its own project's rules only.",
                )
                return data
        row = self.instance
        row.when = when
        row.channels = list(data["channels"])
        row.project = project
        row.level = data["level"]
        row.environment = data["environment"].strip()
        row.release = data["release"].strip()
        row.logger = data["logger"].strip()
        row.tags = data["tags"]
        row.every = data.get("every") or 0
        row.flood_limit = data.get("flood_limit")
        row.enabled = data["enabled"]
        try:
            config._rule(0, row.spec(), self.known)
        except config.ConfigError as exc:
            raise ValidationError(_message(exc)) from None
        return data

    def save(self):
        self.instance.save()
        return self.instance


def initial_of(rule):
    """Return the form's initial values for a saved rule."""
    tags = rule.tags if isinstance(rule.tags, dict) else {}
    initial = {
        "channels": rule.channel_names,
        "project": rule.project_id,
        "level": rule.level,
        "environment": rule.environment,
        "release": rule.release,
        "logger": rule.logger,
        "tags": "\n".join(f"{k}={v}" for k, v in tags.items()),
        "every": rule.every or None,
        "flood_limit": rule.flood_limit,
        "enabled": rule.enabled,
    }
    when = rule.when
    if isinstance(when, dict):
        initial["condition"] = "events" if "events" in when else "reaches"
        initial.update({k: v for k, v in when.items() if isinstance(v, int)})
    else:
        initial["condition"] = when
    return initial


def describe_when(when):
    """Return a rule's condition in words."""
    if when == "new":
        return "A new error"
    if when == "regression":
        return "A regression"
    if when == "unmute":
        return "An error unmuted"
    if isinstance(when, dict) and "events" in when:
        return f"{when.get('events')} events in {when.get('minutes')} minutes"
    if isinstance(when, dict) and "reaches" in when:
        return f"An error reaches {when.get('reaches')} events"
    return json.dumps(when)[:100]
