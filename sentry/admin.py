"""Read-only admin lists of the stored errors; keys and alerts, editable."""

from django import forms
from django.contrib import admin

from . import packing
from .alerts import config
from .alerts.forms import ChannelForm
from .models import (
    DEFAULT_PROJECT_ID,
    AlertChannel,
    AlertDelivery,
    AlertRule,
    ApiToken,
    ArtifactBundle,
    GroupedMessage,
    Message,
    Project,
    ProjectKey,
    QueuedEvent,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Errors are recorded by the app, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(GroupedMessage)
class GroupedMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "logger",
        "level",
        "view",
        "status",
        "times_seen",
        "last_seen",
    )
    list_filter = ("status", "level", "logger", "last_seen")
    search_fields = ("message", "class_name", "view", "checksum")
    date_hierarchy = "last_seen"
    ordering = ("-last_seen",)
    show_full_result_count = False
    exclude = ("data",)

    # A deleted group's compression dictionary (made of its first
    # occurrence, see sentry.packing) goes with it.
    def delete_model(self, request, obj):
        key = (obj.project_id, obj.logger, obj.view, obj.checksum)
        super().delete_model(request, obj)
        packing.delete_orphans(obj._state.db, [key])

    def delete_queryset(self, request, queryset):
        keys = list(queryset.values_list(*packing.KEY_FIELDS))
        super().delete_queryset(request, queryset)
        packing.delete_orphans(queryset.db, keys)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "logger", "level", "server_name", "site", "datetime")
    list_filter = ("level", "logger", "server_name", "site", "datetime")
    search_fields = ("message", "class_name", "view", "message_id", "url")
    date_hierarchy = "datetime"
    ordering = ("-datetime",)
    raw_id_fields = ("group",)
    show_full_result_count = False
    exclude = ("data",)

    # The group's compression dictionary is made of its first occurrence:
    # deleting that one replaces the dictionary (see sentry.packing).
    def delete_model(self, request, obj):
        group_id = obj.group_id
        super().delete_model(request, obj)
        packing.refresh_dictionaries(obj._state.db, [group_id])

    def delete_queryset(self, request, queryset):
        group_ids = set(queryset.values_list("group_id", flat=True))
        super().delete_queryset(request, queryset)
        packing.refresh_dictionaries(queryset.db, group_ids)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """
    Tokens are created with ``manage.py sentry_createtoken``; revoke them here.

    Scopes are shown, not edited (create a token with the scopes it needs);
    the expiry can be brought forward.
    """

    list_display = ("label", "user", "scopes", "created", "expires", "last_used")
    readonly_fields = ("user", "scopes", "created", "last_used")
    fields = ("label", "user", "scopes", "created", "expires", "last_used")

    def has_add_permission(self, request):
        return False


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Projects are made and edited here; project 1, the site's own, stays."""

    list_display = (
        "name",
        "slug",
        "platform",
        "id",
        "rate_limit",
        "retention_days",
        "date_added",
    )
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("date_added",)
    filter_horizontal = ("member_groups",)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.pk == DEFAULT_PROJECT_ID:
            return False
        return super().has_delete_permission(request, obj)

    # Its groups go with it, and their compression dictionaries with them.
    def delete_model(self, request, obj):
        self.delete_queryset(request, Project.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        queryset = queryset.exclude(pk=DEFAULT_PROJECT_ID)
        keys = list(
            GroupedMessage.objects.using(queryset.db)
            .filter(project__in=queryset)
            .values_list(*packing.KEY_FIELDS)
        )
        super().delete_queryset(request, queryset)
        packing.delete_orphans(queryset.db, keys)


@admin.register(ProjectKey)
class ProjectKeyAdmin(admin.ModelAdmin):
    """Client keys are managed here (or with ``manage.py sentry_createkey``)."""

    list_display = (
        "label",
        "project",
        "public_key",
        "is_active",
        "rate_limit",
        "date_added",
    )
    list_filter = ("is_active", "project")
    search_fields = ("label", "public_key")
    readonly_fields = ("dsn", "date_added")
    fields = (
        "label",
        "project",
        "public_key",
        "secret_key",
        "is_active",
        "rate_limit",
        "dsn",
        "date_added",
    )

    @admin.display(description="DSN")
    def dsn(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return obj.dsn or "(set SENTRY_URL_PREFIX to show the DSN)"


@admin.register(QueuedEvent)
class QueuedEventAdmin(admin.ModelAdmin):
    """Events waiting for the digest, and those it set aside (``failed``)."""

    list_display = ("event_id", "kind", "site", "attempts", "failed", "error")
    list_filter = ("failed", "kind")
    search_fields = ("event_id",)
    fields = ("event_id", "kind", "site", "client_ip", "attempts", "failed", "error")
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ArtifactBundle)
class ArtifactBundleAdmin(ReadOnlyAdmin):
    """Uploaded source map bundles: seen, and deleted when no longer needed."""

    list_display = ("checksum", "release", "dist", "project", "file_count", "created")
    list_filter = ("release",)
    search_fields = ("checksum", "release", "files__debug_id")
    fields = ("checksum", "release", "dist", "project", "file_count", "size", "created")
    readonly_fields = fields


class AlertChannelAdminForm(ChannelForm):
    """The dashboard's channel form: URL and secret never shown, kept when empty."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, projects=Project.objects.all(), **kwargs)


@admin.register(AlertChannel)
class AlertChannelAdmin(admin.ModelAdmin):
    """Alert channels saved here or on the Alerts page; the URL shown masked."""

    form = AlertChannelAdminForm
    list_display = ("name", "kind", "target", "project", "enabled", "date_added")
    list_filter = ("kind", "enabled")
    search_fields = ("name",)
    fields = ("name", "kind", "project", "url", "secret", "to", "enabled")

    @admin.display(description="sends to")
    def target(self, obj):
        return obj.to if obj.kind == "mail" else obj.masked_url


class AlertRuleAdminForm(forms.ModelForm):
    """Checked by the parser that reads :setting:`SENTRY_ALERT_RULES`."""

    class Meta:
        model = AlertRule
        fields = (
            "project",
            "when",
            "channels",
            "level",
            "environment",
            "release",
            "logger",
            "tags",
            "every",
            "flood_limit",
            "enabled",
        )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        known = dict.fromkeys(AlertChannel.objects.values_list("name", flat=True))
        try:
            known.update(config.channels())
        except config.ConfigError:
            pass
        row = AlertRule(**{name: data.get(name) for name in self.Meta.fields})
        row.tags = row.tags or {}
        row.every = row.every or 0
        # Stored as the list the dashboard saves ("ops" is ["ops"]).
        data["channels"] = row.channel_names
        try:
            config._rule(0, row.spec(), known)
        except config.ConfigError as exc:
            raise forms.ValidationError(str(exc).split(": ", 1)[-1]) from None
        return data


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleAdminForm
    list_display = ("__str__", "project", "level", "enabled", "date_added")
    list_filter = ("enabled",)


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: what was sent, and what went wrong (never the URL)."""

    list_display = ("date", "channel", "rule", "group", "ok", "status", "attempts")
    list_filter = ("ok", "channel")
    fields = ("date", "channel", "rule", "group", "ok", "status", "error", "attempts")
    readonly_fields = fields
    raw_id_fields = ("group",)
    show_full_result_count = False
