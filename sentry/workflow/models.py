"""A group's history: what happened to it, who did it, and comments."""

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FIRST_SEEN = "first_seen"
RESOLVED = "resolved"
UNRESOLVED = "unresolved"
REGRESSED = "regressed"
MUTED = "muted"
UNMUTED = "unmuted"
COMMENT = "comment"
KINDS = (
    (FIRST_SEEN, _("first seen")),
    (RESOLVED, _("resolved")),
    (UNRESOLVED, _("unresolved")),
    (REGRESSED, _("regressed")),
    (MUTED, _("muted")),
    (UNMUTED, _("unmuted")),
    (COMMENT, _("comment")),
)


class GroupActivity(models.Model):
    """
    One entry of a group's history: a change of state, or a comment.

    ``user`` is who did it (None: an event did it, or the user is gone);
    ``release`` the release it happened in (resolved entries: the release
    resolved in; regressed ones: the reopening event's); ``text`` the
    comment, or how a change was made ("Muted for 60 minutes"); ``data``
    the mute's condition as given; ``message_id`` the occurrence that
    created the group, reopened it or ended its mute.
    """

    group = models.ForeignKey(
        "sentry.GroupedMessage",
        on_delete=models.CASCADE,
        related_name="activity",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=KINDS)
    date = models.DateTimeField(_("date"), default=timezone.now)
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    release = models.CharField(_("release"), max_length=200, null=True, blank=True)
    text = models.TextField(_("text"), blank=True, default="")
    data = models.JSONField(_("data"), null=True, blank=True)
    message_id = models.CharField(max_length=32, null=True, blank=True)
    edited = models.DateTimeField(_("edited"), null=True, blank=True)

    class Meta:
        verbose_name = _("group activity")
        verbose_name_plural = _("group activity")
        ordering = ("-date", "-id")
        indexes = [
            # A group's history, newest first, a page at a time.
            models.Index(
                fields=("group", "-date", "-id"), name="sentry_activity_group_date"
            ),
            # The groups that regressed in a release (the releases page).
            models.Index(
                fields=("release",),
                condition=models.Q(kind="regressed"),
                name="sentry_activity_regressed",
            ),
        ]

    def __str__(self):
        return f"{self.group_id} {self.kind} @ {self.date:%Y-%m-%d %H:%M}"

    @property
    def is_comment(self):
        return self.kind == COMMENT
