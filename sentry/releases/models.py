"""The releases of a project, one row per version."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: Longest release name kept (the value counters' size: names are cut alike).
MAX_VERSION_LENGTH = 200


class Release(models.Model):
    """
    A version of a project's code, as its events name it (the SDK's ``release``).

    Created by the storage the first time an event of the version is stored
    (or when a group is resolved in a release not seen yet); ``date_added``
    is that moment, by the server's clock. It orders releases whose names
    are not semantic versions (:mod:`sentry.releases.versions`).
    """

    project = models.ForeignKey(
        "sentry.Project",
        on_delete=models.CASCADE,
        related_name="releases",
        verbose_name=_("project"),
        # The unique (project, version) index starts with it.
        db_index=False,
    )
    version = models.CharField(_("version"), max_length=MAX_VERSION_LENGTH)
    date_added = models.DateTimeField(_("first seen"), default=timezone.now)

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ("-date_added", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("project", "version"), name="sentry_release_project_version"
            )
        ]
        indexes = [
            # A project's releases page: newest first, a page at a time.
            models.Index(
                fields=("project", "-date_added", "-id"),
                name="sentry_release_project_date",
            ),
        ]

    def __str__(self):
        return self.version
