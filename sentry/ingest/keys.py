"""
Client keys: who may send events to the ingest endpoints.

A key is what a Sentry SDK's DSN carries
(``http://<public_key>@host/sentry/<project_id>``). Importable as
``sentry.models.ProjectKey``.
"""

import uuid
from urllib.parse import urlsplit, urlunsplit

from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..conf import settings
from ..models import DEFAULT_PROJECT_ID, SentryManager


def new_key():
    """Return a fresh random key: 32 lowercase hex characters."""
    return uuid.uuid4().hex


class ProjectKey(models.Model):
    """A DSN key: a public key, its project and how much it may send."""

    public_key = models.CharField(
        _("public key"), max_length=32, unique=True, default=new_key
    )
    # Deprecated in the Sentry protocol; checked when both sides have one.
    secret_key = models.CharField(_("secret key"), max_length=32, blank=True)
    label = models.CharField(
        _("label"),
        max_length=128,
        help_text=_("Ingested events are filed under this site name."),
    )
    # Its id is the number at the end of the DSN; the key files events
    # there and nowhere else.
    project = models.ForeignKey(
        "sentry.Project",
        on_delete=models.CASCADE,
        default=DEFAULT_PROJECT_ID,
        related_name="keys",
        verbose_name=_("project"),
        help_text=_("Its id is the number at the end of the DSN."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    rate_limit = models.PositiveIntegerField(
        _("rate limit"),
        null=True,
        blank=True,
        help_text=_("Events accepted per minute; empty for no limit."),
    )
    date_added = models.DateTimeField(_("added"), default=timezone.now)

    objects = SentryManager()

    class Meta:
        app_label = "sentry"
        verbose_name = _("client key")
        verbose_name_plural = _("client keys")
        ordering = ("project_id", "label")

    def __str__(self):
        return f"{self.label} ({self.public_key})"

    def get_dsn(self, base_url=None, request=None, include_secret=False):
        """
        Return the DSN for this key, or ``None`` when the address is unknown.

        ``base_url`` is where ``sentry.urls`` is mounted, such as
        ``"https://errors.example.com/sentry/"``. Without it the address is
        taken from ``request`` (the host it was made to) or else from
        ``SENTRY_URL_PREFIX`` (the site's address) and the mount path.
        """
        if not base_url:
            base_url = default_base_url(request)
        if not base_url:
            return None
        return build_dsn(
            base_url,
            self.public_key,
            self.project_id,
            self.secret_key if include_secret else None,
        )

    @property
    def dsn(self):
        """The DSN built from ``SENTRY_URL_PREFIX`` (``None`` if it is unset)."""
        return self.get_dsn()


def build_dsn(base_url, public_key, project_id, secret_key=None):
    """Return ``scheme://key@host/path/project_id`` for a mount URL."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{base_url!r} is not an absolute http(s) URL")
    host = parts.netloc.rsplit("@", 1)[-1]
    userinfo = public_key + (f":{secret_key}" if secret_key else "")
    path = parts.path.rstrip("/")
    return urlunsplit(
        (parts.scheme, f"{userinfo}@{host}", f"{path}/{project_id}", "", "")
    )


def default_base_url(request=None):
    """Return where ``sentry.urls`` is reached: from a request or the settings."""
    mount = ingest_mount_path()
    if mount is None:
        return None
    if request is not None:
        return request.build_absolute_uri(mount)
    if settings.URL_PREFIX:
        return settings.URL_PREFIX.rstrip("/") + mount
    return None


def ingest_mount_path():
    """Return the path ``sentry.urls`` is mounted at, e.g. ``"/sentry/"``."""
    try:
        store = reverse("sentry:api-store", kwargs={"project_id": 1})
    except NoReverseMatch:
        return None
    return store[: -len("api/1/store/")]
