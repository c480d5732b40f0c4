"""
The stored errors.

``GroupedMessage`` is one row per distinct error, ``Message`` one row per
occurrence. The counter tables let the dashboard and the plugins answer "how
often, where, when" without scanning ``Message``.
"""

import logging
import math

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models, router, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from picklefield.fields import PickledObjectField

from .conf import settings
from .constants import (
    DEFAULT_LOGGER,
    DEFAULT_PROJECT_ID,
    LEVEL_NAMES,
    LOG_LEVELS,
    MAX_RETENTION_DAYS,
    STATUS_CHOICES,
    STATUS_RESOLVED,
    STATUS_UNRESOLVED,
)
from .fields import PackedPickleField, PackedTextField

__all__ = (
    "AlertChannel",
    "AlertDelivery",
    "AlertFiring",
    "AlertFlood",
    "AlertRule",
    "ApiToken",
    "ArtifactBundle",
    "ArtifactFile",
    "CompressionDictionary",
    "DigestedEvent",
    "FilterValue",
    "ProjectKey",
    "QueuedEvent",
    "UploadChunk",
    "GroupActivity",
    "GroupedMessage",
    "GroupUser",
    "Message",
    "MessageCountByMinute",
    "MessageFilterValue",
    "Project",
    "ProjectCountByHour",
    "Release",
    "ValueCountByHour",
)


def format_short_id(slug, number):
    """Return the short id of group ``number`` of project ``slug``: ``SHOP-12``."""
    return f"{slug.upper()}-{number}"


def next_short_id(using, project_id):
    """
    Take the next short id of a project.

    Run inside a transaction: the project's counter moves in one statement,
    and the row stays locked until the transaction ends, so concurrent
    writers get different numbers and a rollback gives the number back.
    """
    connection = connections[using]
    if connection.vendor in ("sqlite", "postgresql"):
        quote = connection.ops.quote_name
        table = quote(Project._meta.db_table)
        column = quote("last_short_id")
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {column} = {column} + 1 "
                f"WHERE {quote('id')} = %s RETURNING {column}",
                [project_id],
            )
            row = cursor.fetchone()
        if row is None:
            raise Project.DoesNotExist(f"No project {project_id}")
        return row[0]
    # Elsewhere: the update locks the row, the select reads it back.
    projects = Project.objects.using(using).filter(pk=project_id)
    if not projects.update(last_short_id=models.F("last_short_id") + 1):
        raise Project.DoesNotExist(f"No project {project_id}")
    return projects.values_list("last_short_id", flat=True).get()


def get_score(times_seen, last_seen):
    """Return the priority of a group: frequent and recent errors come first."""
    return math.log(max(times_seen, 1)) * 600 + last_seen.timestamp()


class SentryManager(models.Manager):
    """Send the app's queries to ``SENTRY_DATABASE_USING`` when it is set."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if self._db is None and settings.DATABASE_USING:
            queryset = queryset.using(settings.DATABASE_USING)
        return queryset


class Project(models.Model):
    """
    One service reporting here: its own groups, keys and settings.

    Project 1 is the site's own; the in-process client files its errors
    under ``SENTRY_PROJECT`` (that one by default). A client key belongs to
    one project, and the number at the end of its DSN is the project's id.
    """

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(
        _("slug"),
        max_length=50,
        unique=True,
        help_text=_("Short name for URLs and the API, e.g. shop."),
    )
    platform = models.CharField(
        _("platform"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("What the service is written in, e.g. python or javascript."),
    )
    # Counted over all the project's keys, beside each key's own limit.
    rate_limit = models.PositiveIntegerField(
        _("rate limit"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Events accepted per minute over all its keys; empty for no limit."
        ),
    )
    # Read by cleanup_sentry, which deletes what is older. At most a
    # century: a cut-off further back than year 1 cannot be computed.
    retention_days = models.PositiveIntegerField(
        _("retention (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RETENTION_DAYS)],
        help_text=_(
            "Days its errors are kept by cleanup_sentry; empty for the "
            "command's --days."
        ),
    )
    date_added = models.DateTimeField(_("added"), default=timezone.now)
    # The short id of the project's newest group (see next_short_id()).
    last_short_id = models.PositiveIntegerField(
        _("last short id"), default=0, editable=False
    )
    # Empty: everyone who may read the dashboard sees the project. Otherwise
    # only members of these groups (and superusers) do: see sentry.projects.
    member_groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="sentry_projects",
        verbose_name=_("member groups"),
        help_text=_(
            "Leave empty to show the project to everyone who may read the "
            "dashboard. Otherwise only members of these groups (and "
            "superusers) see its errors, feeds, API results and keys."
        ),
    )

    objects = SentryManager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ("name",)

    def __str__(self):
        return self.name


class MessageBase(models.Model):
    """Fields that describe an error, shared by a group and an occurrence."""

    logger = models.CharField(max_length=64, default=DEFAULT_LOGGER)
    class_name = models.CharField(
        _("type"), max_length=128, blank=True, null=True, db_index=True
    )
    level = models.PositiveIntegerField(
        choices=LOG_LEVELS, default=logging.ERROR, blank=True
    )
    message = models.TextField()
    traceback = models.TextField(blank=True, null=True)
    # The culprit: "module.function" of the code that failed. An empty string
    # rather than NULL, so that the unique (project, logger, view, checksum) constraint
    # also holds for errors without a view.
    view = models.CharField(max_length=200, blank=True, default="")
    checksum = models.CharField(max_length=32)
    data = PickledObjectField(compress=True, copy=False, null=True, blank=True)

    objects = SentryManager()

    class Meta:
        abstract = True

    @property
    def level_name(self):
        return LEVEL_NAMES.get(self.level, str(self.level))

    @property
    def title(self):
        """Return the one-line summary shown in lists."""
        if self.class_name:
            first = self.message.split("\n", 1)[0]
            if first.startswith(self.class_name):
                return first
            return f"{self.class_name}: {first}"
        return self.message.split("\n", 1)[0]


#: The columns of a group its search text is made of (sentry.search.index).
SEARCH_TEXT_FIELDS = frozenset(("message", "class_name", "view", "traceback"))


class GroupedMessage(MessageBase):
    """One distinct error, with how often and when it was seen."""

    STATUS_UNRESOLVED = STATUS_UNRESOLVED
    STATUS_RESOLVED = STATUS_RESOLVED

    # The same error in two projects is two groups. The default is the
    # site's own project, so that code creating groups keeps working.
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        default=DEFAULT_PROJECT_ID,
        related_name="groups",
        verbose_name=_("project"),
    )
    # The group's number in its project, shown as SLUG-<n> (SHOP-12).
    short_id = models.PositiveIntegerField(_("short id"), editable=False)
    status = models.PositiveIntegerField(
        choices=STATUS_CHOICES, default=STATUS_UNRESOLVED
    )
    times_seen = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(db_index=True)
    last_seen = models.DateTimeField(db_index=True)
    score = models.FloatField(default=0)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Distinct users hit (one GroupUser row each), kept by every write.
    users = models.PositiveIntegerField(_("users affected"), default=0)
    # Muting: a state of an unresolved group (status stays 0). While
    # ``muted``, the group is hidden from the default stream and sends no
    # notification; it unmutes itself once ``muted_until`` has passed, or
    # ``times_seen`` reaches ``muted_until_times_seen``, or ``users``
    # reaches ``muted_until_users`` (see sentry.workflow.mute). The
    # conditions mean nothing once ``muted`` is false.
    muted = models.BooleanField(_("muted"), default=False)
    muted_until = models.DateTimeField(_("muted until"), null=True, blank=True)
    muted_until_times_seen = models.PositiveBigIntegerField(
        _("muted until seen"), null=True, blank=True
    )
    muted_until_users = models.PositiveBigIntegerField(
        _("muted until users"), null=True, blank=True
    )
    # Releases (names, as the SDK sent them): of the group's first event
    # with one, and of its newest (see sentry.storage).
    first_release = models.CharField(
        _("first release"), max_length=200, null=True, blank=True
    )
    last_release = models.CharField(
        _("last release"), max_length=200, null=True, blank=True
    )
    # Resolved in a release: only an event of a newer release reopens the
    # group (sentry.releases.resolve). ``resolved_in_next``: it was resolved
    # "in the next release", the one after ``resolved_in_release``, its
    # last release then. Both mean nothing unless the group is resolved.
    resolved_in_release = models.CharField(
        _("resolved in release"), max_length=200, null=True, blank=True
    )
    resolved_in_next = models.BooleanField(_("resolved in next release"), default=False)
    # The flood guard (SENTRY_THRASHING_*), kept in the row every write
    # locks so that its bound holds across processes: when the current
    # window began, how many occurrences were stored in it, and how many
    # the last write stored (read back by that write). Nullable: added to a
    # large table without copying it. See sentry.storage.
    flood_started = models.DateTimeField(null=True, blank=True, editable=False)
    flood_stored = models.PositiveIntegerField(null=True, blank=True, editable=False)
    flood_kept = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("grouped message")
        verbose_name_plural = _("grouped messages")
        ordering = ("-last_seen",)
        constraints = [
            models.UniqueConstraint(
                fields=("project", "logger", "view", "checksum"),
                name="sentry_group_project_logger_view_checksum_uniq",
            ),
            models.UniqueConstraint(
                fields=("project", "short_id"), name="sentry_group_project_short_id"
            ),
        ]
        indexes = [
            # The seed's query: filter(status=0).order_by("-last_seen").
            models.Index(
                fields=("status", "-last_seen"), name="sentry_group_status_seen"
            ),
            models.Index(fields=("status", "-score"), name="sentry_group_status_score"),
            models.Index(
                fields=("status", "-first_seen"), name="sentry_group_status_first"
            ),
            models.Index(
                fields=("status", "-times_seen"), name="sentry_group_status_times"
            ),
            models.Index(fields=("checksum",), name="sentry_group_checksum"),
            # One project's stream (?project=<slug>) in each of its sorts,
            # and its unresolved count on the projects overview.
            models.Index(
                fields=("project", "status", "-score"),
                name="sentry_group_proj_score",
            ),
            models.Index(
                fields=("project", "status", "-last_seen"),
                name="sentry_group_proj_seen",
            ),
            models.Index(
                fields=("project", "status", "-first_seen"),
                name="sentry_group_proj_first",
            ),
            models.Index(
                fields=("project", "status", "-times_seen"),
                name="sentry_group_proj_times",
            ),
            # The stream sorted by users affected, everywhere and per project.
            models.Index(fields=("status", "-users"), name="sentry_group_status_users"),
            models.Index(
                fields=("project", "status", "-users"),
                name="sentry_group_proj_users",
            ),
            # is:muted: the few muted groups, without reading the others.
            # The default stream (unresolved, not muted) keeps the status
            # indexes above: muted rows are skipped as they are read.
            models.Index(
                fields=("-last_seen",),
                condition=models.Q(muted=True),
                name="sentry_group_muted_seen",
            ),
            # The groups new in a release (the releases page).
            models.Index(
                fields=("project", "first_release"),
                condition=models.Q(first_release__isnull=False),
                name="sentry_group_first_release",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, search_index=True, **kwargs):
        """
        Save the group, and its search text unless ``search_index`` is false.

        The storage passes ``False``: it indexes a batch's new groups at once.
        """
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        numbered = self.short_id is None
        update_fields = kwargs.get("update_fields")
        indexed = search_index and (
            update_fields is None or not SEARCH_TEXT_FIELDS.isdisjoint(update_fields)
        )
        if not numbered and not indexed:
            return super().save(*args, **kwargs)
        try:
            # The row, its short id (made outside the storage: the admin,
            # tests, a shell -- numbered like the groups it makes) and its
            # search text, in one transaction.
            with transaction.atomic(using=using, savepoint=numbered):
                if numbered:
                    self.short_id = next_short_id(using, self.project_id)
                super().save(*args, **kwargs)
                if indexed:
                    from .search.index import index_groups

                    index_groups(using, [self.search_row()])
        except Exception:
            if numbered:
                self.short_id = None  # given back by the rollback
            raise

    def get_absolute_url(self):
        return reverse("sentry:group", kwargs={"group_id": self.pk})

    def get_score(self):
        return get_score(self.times_seen, self.last_seen)

    def search_row(self):
        """Return what the search index reads of the group (see sentry.search.index)."""
        return (self.pk, self.message, self.class_name, self.view, self.traceback)

    @property
    def qualified_short_id(self):
        """
        Return the id people quote, ``SHOP-12``: the project's slug and number.

        Reads ``self.project``: list groups with ``select_related("project")``.
        """
        return format_short_id(self.project.slug, self.short_id)

    @property
    def is_resolved(self):
        return self.status == STATUS_RESOLVED

    @property
    def is_muted(self):
        """Return whether the group is muted now (a mute by date may be over)."""
        if not self.muted:
            return False
        return self.muted_until is None or self.muted_until > timezone.now()


class Message(MessageBase):
    """One occurrence of an error."""

    group = models.ForeignKey(
        GroupedMessage,
        on_delete=models.CASCADE,
        related_name="message_set",
        blank=True,
        null=True,
    )
    message_id = models.CharField(max_length=32, unique=True)
    datetime = models.DateTimeField(db_index=True)
    url = models.CharField(max_length=1000, null=True, blank=True)
    server_name = models.CharField(max_length=128, db_index=True)
    site = models.CharField(max_length=128, null=True, blank=True, db_index=True)
    # What the occurrences tab shows and its search narrows (sentry.occurrences):
    # the event's release, environment and who it hit, out of its packed data.
    # No index: they narrow one group's rows, read through its own index.
    release = models.CharField(_("release"), max_length=200, null=True, blank=True)
    environment = models.CharField(
        _("environment"), max_length=200, null=True, blank=True
    )
    user = models.CharField(_("user"), max_length=200, null=True, blank=True)
    # Read and written like the group's, stored packed against the group's
    # first occurrence (see sentry.packing): a few hundred bytes each.
    traceback = PackedTextField(blank=True, null=True)
    data = PackedPickleField(null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ("-datetime",)
        indexes = [
            # The occurrences of a group, newest first.
            models.Index(fields=("group", "-datetime"), name="sentry_message_group_dt"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse(
            "sentry:message",
            kwargs={"group_id": self.group_id, "message_id": self.message_id},
        )


class FilterValue(models.Model):
    """
    A distinct value seen in a project for a filterable key (server, site...).

    Per project, so that the stream offers a user only the values of the
    projects they may see: a restricted project's server names, sites and
    loggers are not shown to others in the filter choices.
    """

    # No index of its own: the unique one starts with it.
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        default=DEFAULT_PROJECT_ID,
        related_name="+",
        verbose_name=_("project"),
        db_index=False,
    )
    key = models.CharField(max_length=32)
    value = models.CharField(max_length=200)

    objects = SentryManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("project", "key", "value"),
                name="sentry_filtervalue_project_key_value_uniq",
            )
        ]
        indexes = [
            # A key's newest values (the stream's choices, sentry.filters):
            # read in order, in whichever projects a user may see, and only as
            # far as needed. (One on (project, key, -id) went unused: the
            # projects come as a subquery, which neither planner looks into.)
            models.Index(fields=("key", "-id"), name="sentry_filtervalue_key_id"),
        ]

    def __str__(self):
        return f"{self.key}={self.value}"


class MessageFilterValue(models.Model):
    """How often, and when first and last, a group was seen with a value."""

    group = models.ForeignKey(GroupedMessage, on_delete=models.CASCADE)
    key = models.CharField(max_length=32)
    value = models.CharField(max_length=200)
    times_seen = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    objects = SentryManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("group", "key", "value"), name="sentry_mfv_group_key_value_uniq"
            )
        ]
        indexes = [
            # The top values of a key for a group (plugin widgets and panels,
            # the Tags sidebar and tab), ties newest first without a sort.
            models.Index(
                fields=("group", "key", "-times_seen", "-id"),
                name="sentry_mfv_group_key_times_id",
            ),
            # Groups seen with a value (stream filters by server or site).
            models.Index(fields=("key", "value"), name="sentry_mfv_key_value"),
        ]

    def __str__(self):
        return f"{self.key}={self.value} ({self.times_seen})"


class OccurrenceValue(models.Model):
    """
    One of an occurrence's counted values that ``Message`` has no column for.

    Its tags (``browser``, ``os``, the SDK's own...) and its user's
    ``user.id`` / ``user.email`` / ``user.username`` / ``user.ip``: a link
    from the group's counter of the value (``MessageFilterValue``) to the
    occurrence, written with the occurrence, so that the occurrences tab,
    the API and the feeds narrow by any key, read through an index. Deleted
    with its occurrence by a database trigger (whatever deletes it: the
    cleanup, the admin, a group's deletion), not by Django: deleting a
    group's occurrences stays one statement.
    """

    id = models.BigAutoField(primary_key=True)
    value = models.ForeignKey(
        MessageFilterValue,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the first column of the unique index
        related_name="+",
    )
    message = models.ForeignKey(
        Message,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the first column of the unique index
        related_name="+",
    )

    class Meta:
        constraints = [
            # An occurrence's values: is this one of them (checked on each
            # occurrence of a list), and which to delete with it.
            models.UniqueConstraint(
                fields=("message", "value"), name="sentry_occval_message_value_uniq"
            )
        ]
        indexes = [
            # The occurrences with a value.
            models.Index(fields=("value", "message"), name="sentry_occval_value_msg"),
        ]

    def __str__(self):
        return f"{self.value_id} of {self.message_id}"


class GroupUser(models.Model):
    """
    A user a group hit, known by a hash of who they are.

    ``hash`` is a keyed hash (HMAC-SHA256 with ``SECRET_KEY``, hex) of
    ``"<kind>:<value>"``: the user's id,
    else e-mail address, else username, else IP address
    (:func:`sentry.tags.user_identity`). No address is kept in clear. One
    row per group and user; ``GroupedMessage.users`` counts them.
    """

    # The unique constraint's index leads with the group: no index of its own.
    group = models.ForeignKey(GroupedMessage, on_delete=models.CASCADE, db_index=False)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("group", "hash"), name="sentry_groupuser_group_hash_uniq"
            )
        ]

    def __str__(self):
        return f"{self.group_id}:{self.hash[:12]}"


class MessageCountByMinute(models.Model):
    """How many occurrences of a group fell in one minute (trend charts)."""

    # No index of its own: the unique (group, date) index starts with it, and
    # a second one only tempted PostgreSQL into scanning a group's whole
    # history for a day's counts.
    group = models.ForeignKey(GroupedMessage, on_delete=models.CASCADE, db_index=False)
    date = models.DateTimeField()
    times_seen = models.PositiveIntegerField(default=0)

    objects = SentryManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("group", "date"), name="sentry_mcbm_group_date_uniq"
            )
        ]
        indexes = [
            models.Index(fields=("date",), name="sentry_mcbm_date"),
            # Trends and sparklines sum a time range of some groups: read
            # from this index alone (see docs/performance.rst).
            models.Index(
                fields=("group", "date", "times_seen"),
                name="sentry_mcbm_group_date_count",
            ),
        ]

    def __str__(self):
        return f"{self.group_id} @ {self.date:%Y-%m-%d %H:%M}: {self.times_seen}"


class ValueCountByHour(models.Model):
    """
    How many occurrences of a group with one value of a key fell in one hour.

    Kept only for the keys in :data:`sentry.tags.TREND_KEYS` (environment,
    release, server, site): the stream, filtered by one of their values,
    draws each row's sparkline from these rows (see docs/dashboard.rst).
    """

    # No index of its own: the unique index starts with it.
    group = models.ForeignKey(GroupedMessage, on_delete=models.CASCADE, db_index=False)
    key = models.CharField(max_length=32)
    value = models.CharField(max_length=200)
    date = models.DateTimeField()
    times_seen = models.PositiveIntegerField(default=0)

    objects = SentryManager()

    class Meta:
        constraints = [
            # Also what a sparkline reads: some groups, one value, a day.
            models.UniqueConstraint(
                fields=("group", "key", "value", "date"),
                name="sentry_vcbh_group_value_date_uniq",
            )
        ]
        indexes = [
            # cleanup_sentry deletes the old hours.
            models.Index(fields=("date",), name="sentry_vcbh_date"),
        ]

    def __str__(self):
        return (
            f"{self.group_id} {self.key}={self.value} "
            f"@ {self.date:%Y-%m-%d %H}h: {self.times_seen}"
        )


class ProjectCountByHour(models.Model):
    """
    How many occurrences a project received in one hour (the projects page).

    Kept beside the per-minute counters of the groups as events are stored,
    so that a project's last day is 24 rows, not every minute of every one
    of its groups. It counts what was received: deleting a group later does
    not take its events out of the hours they came in.
    """

    # No index of its own: the unique (project, date) index starts with it.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, db_index=False)
    date = models.DateTimeField()
    times_seen = models.PositiveIntegerField(default=0)

    objects = SentryManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("project", "date"), name="sentry_pcbh_project_date_uniq"
            )
        ]
        indexes = [
            # cleanup_sentry deletes the old hours of every project.
            models.Index(fields=("date",), name="sentry_pcbh_date"),
        ]

    def __str__(self):
        return f"{self.project_id} @ {self.date:%Y-%m-%d %H}h: {self.times_seen}"


# API tokens and ingest keys live with the code that uses them; importable
# from here like every model, and imported last as they use SentryManager.
from .alerts.models import AlertChannel, AlertDelivery, AlertRule  # noqa: E402
from .alerts.state import AlertFiring, AlertFlood  # noqa: E402
from .api.tokens import ApiToken  # noqa: E402
from .ingest.keys import ProjectKey  # noqa: E402
from .packing import CompressionDictionary  # noqa: E402
from .queue import DigestedEvent, QueuedEvent  # noqa: E402
from .releases.models import Release  # noqa: E402
from .sourcemaps.models import (  # noqa: E402
    ArtifactBundle,
    ArtifactFile,
    UploadChunk,
)
from .workflow.models import GroupActivity  # noqa: E402
