"""
What the rules remember between events: when each one fired, and for what.

Rows are claimed with an insert only one writer can win (a unique
constraint), so a condition decided by several processes at once fires
exactly once (see :mod:`sentry.alerts.rules`).
"""

from django.db import models

from ..models import GroupedMessage, Project, SentryManager


class AlertFiring(models.Model):
    """
    The ``seq``-th time a rule sent a group's message to one kind of channel.

    A rule fires again only by inserting the next ``seq`` after the last one
    it read: of two processes that read the same last firing, one inserts
    and the other finds the row taken.
    """

    #: ``"settings:<hash>"`` or ``"db:<pk>"`` (:attr:`sentry.alerts.config.Rule.key`).
    rule_key = models.CharField(max_length=100)
    #: The kind of channel (``"webhook"``, ``"slack"``...): each kind's plugin
    #: decides, and delivers, on its own.
    target = models.CharField(max_length=32)
    # No index of its own: the unique index starts with it.
    group = models.ForeignKey(GroupedMessage, on_delete=models.CASCADE, db_index=False)
    seq = models.PositiveIntegerField()
    fired_at = models.DateTimeField()

    objects = SentryManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("group", "rule_key", "target", "seq"),
                name="sentry_alertfiring_uniq",
            )
        ]

    def __str__(self):
        return f"{self.rule_key} {self.target} #{self.group_id}: {self.seq}"


class AlertFlood(models.Model):
    """
    A new-error message of a rule in one minute, for one project and kind.

    Slots 1, 2, 3... are taken by an insert one writer only can win: the
    messages past the rule's limit are ``collected`` into the minute's
    summary, which slot 0 claims (see :mod:`sentry.alerts.flood`).
    """

    rule_key = models.CharField(max_length=100)
    target = models.CharField(max_length=32)
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    minute = models.DateTimeField()
    slot = models.PositiveIntegerField()
    collected = models.BooleanField(default=False)

    objects = SentryManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("rule_key", "target", "project", "minute", "slot"),
                name="sentry_alertflood_uniq",
            )
        ]

    def __str__(self):
        return f"{self.rule_key} {self.target} {self.minute:%H:%M}: {self.slot}"
