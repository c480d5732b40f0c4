"""Read-only admin lists of the stored errors; the ingest keys, editable."""

from django.contrib import admin

from .models import ApiToken, GroupedMessage, Message, ProjectKey, QueuedEvent


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


@admin.register(ProjectKey)
class ProjectKeyAdmin(admin.ModelAdmin):
    """Client keys are managed here (or with ``manage.py sentry_createkey``)."""

    list_display = (
        "label",
        "project_id",
        "public_key",
        "is_active",
        "rate_limit",
        "date_added",
    )
    list_filter = ("is_active", "project_id")
    search_fields = ("label", "public_key")
    readonly_fields = ("dsn", "date_added")
    fields = (
        "label",
        "project_id",
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
