"""
Alert channels and rules made on the dashboard, and the delivery log.

Channels and rules are read into the same :class:`~sentry.alerts.config.Channel`
and :class:`~sentry.alerts.config.Rule` objects as the settings' ones, by
the settings' own parser (see :mod:`sentry.alerts.store`), so that one
parser decides what a rule may say wherever it is written.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .config import KINDS, Channel

#: Longest channel name (a rule names its channels, the test URL too).
NAME_MAX_LENGTH = 64
#: Longest webhook URL kept (a Slack one is about 80 characters).
URL_MAX_LENGTH = 2000
#: Longest error text kept in the delivery log.
ERROR_MAX_LENGTH = 300
#: Deliveries the log keeps per channel; older ones are deleted as new ones come.
KEEP_DELIVERIES = 500


class AlertChannel(models.Model):
    """
    Where alerts go: a webhook, a chat's incoming webhook, or e-mail addresses.

    ``url`` and ``secret`` are kept as given (they must be usable) but never
    shown again in full: pages, the admin and logs show
    :attr:`masked_url`. Names are unique over every channel, the settings'
    ones included, since rules name their channels. A channel of a project
    serves that project's rules only.
    """

    project = models.ForeignKey(
        "sentry.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("project"),
        help_text=_("Empty: any rule may use it."),
    )
    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH, unique=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=[(kind, kind) for kind in KINDS]
    )
    url = models.CharField(_("URL"), max_length=URL_MAX_LENGTH, blank=True)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    to = models.CharField(
        _("mail to"),
        max_length=1000,
        blank=True,
        help_text=_("E-mail addresses, separated by commas."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    date_added = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("alert channel")
        verbose_name_plural = _("alert channels")
        ordering = ("name",)

    def __str__(self):
        return self.name

    @property
    def masked_url(self):
        """Return the URL with its path and query hidden (they hold the token)."""
        return Channel(self.name, self.kind, url=self.url).masked_url

    @property
    def addresses(self):
        """Return the ``to`` addresses as a list."""
        return [part.strip() for part in self.to.split(",") if part.strip()]

    def spec(self):
        """Return the channel as :setting:`SENTRY_ALERT_CHANNELS` would declare it."""
        if self.kind == "mail":
            return {"plugin": "mail", "to": self.addresses}
        spec = {"plugin": self.kind, "url": self.url}
        if self.kind == "webhook" and self.secret:
            spec["secret"] = self.secret
        return spec


def _new():
    return "new"


class AlertRule(models.Model):
    """
    When to alert, and which channels to tell.

    ``when`` is what :setting:`SENTRY_ALERT_RULES` takes under ``"when"``
    (``"new"``, ``"regression"``, or a condition mapping), ``channels`` a
    list of channel names (the settings' channels too). A rule of a project
    only fires for that project's errors.
    """

    project = models.ForeignKey(
        "sentry.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("project"),
        help_text=_("Empty: every project's errors."),
    )
    when = models.JSONField(_("when"), default=_new)
    channels = models.JSONField(_("channels"), default=list)
    level = models.PositiveSmallIntegerField(
        _("minimum level"), default=0, help_text=_("0: any level.")
    )
    environment = models.CharField(_("environment"), max_length=200, blank=True)
    release = models.CharField(_("release"), max_length=200, blank=True)
    logger = models.CharField(_("logger"), max_length=64, blank=True)
    tags = models.JSONField(_("tags"), default=dict, blank=True)
    # The rate limit and the flood summary, as the settings' "every" and
    # "flood_limit" (docs/alerts.rst): at most one message per error every
    # so many minutes (0: none); a "new" rule's messages a minute before
    # the rest are summed up (None: SENTRY_ALERT_FLOOD_LIMIT; 0: no limit).
    every = models.PositiveIntegerField(
        _("at most once every (minutes)"),
        default=0,
        blank=True,
        help_text=_("0: no limit."),
    )
    flood_limit = models.PositiveIntegerField(
        _("summary after (messages a minute)"), null=True, blank=True
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    date_added = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ("pk",)

    def __str__(self):
        return f"Rule {self.pk}: {self.when} -> {', '.join(self.channel_names)}"

    @property
    def channel_names(self):
        """Return the names of the channels the rule sends to, as a list."""
        names = self.channels
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list | tuple):
            return []
        return [name for name in names if isinstance(name, str)]

    @property
    def key(self):
        """Return the rule's key among every rule (the settings' ones are others)."""
        return f"db:{self.pk}"

    def spec(self):
        """Return the rule as :setting:`SENTRY_ALERT_RULES` would declare it."""
        spec = {"when": self.when, "channels": self.channel_names}
        if self.project_id is not None:
            spec["project"] = self.project.slug
        if self.level:
            spec["level"] = self.level
        for name in ("environment", "release", "logger"):
            if getattr(self, name):
                spec[name] = getattr(self, name)
        if self.tags:
            spec["tags"] = self.tags
        if self.every:
            spec["every"] = self.every
        if self.flood_limit is not None:
            spec["flood_limit"] = self.flood_limit
        return spec


class AlertDelivery(models.Model):
    """
    One alert sent, or given up on: the delivery log.

    The channel and rule are kept by name and key (the settings' ones have
    no row), the error as a short text that never holds the URL. Only the
    newest :data:`KEEP_DELIVERIES` of a channel are kept.
    """

    channel = models.CharField(_("channel"), max_length=NAME_MAX_LENGTH)
    rule = models.CharField(_("rule"), max_length=200, blank=True)
    group = models.ForeignKey(
        "sentry.GroupedMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("group"),
    )
    date = models.DateTimeField(_("date"), default=timezone.now)
    ok = models.BooleanField(_("delivered"))
    status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=ERROR_MAX_LENGTH, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)

    class Meta:
        verbose_name = _("alert delivery")
        verbose_name_plural = _("alert deliveries")
        ordering = ("-id",)
        indexes = [
            # A channel's newest deliveries (pruning keeps the last ones).
            models.Index(fields=("channel", "-id"), name="sentry_alertdel_chan_id"),
            models.Index(fields=("date",), name="sentry_alertdel_date"),
        ]

    def __str__(self):
        outcome = "delivered" if self.ok else "failed"
        return f"{self.channel} @ {self.date:%Y-%m-%d %H:%M}: {outcome}"
