"""Uploaded chunks, artifact bundles and the files they hold."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: Kinds of files in an artifact bundle, as ``sentry-cli`` names them.
SOURCE = "source"
MINIFIED_SOURCE = "minified_source"
SOURCE_MAP = "source_map"
KINDS = (SOURCE, MINIFIED_SOURCE, SOURCE_MAP)


class UploadChunk(models.Model):
    """A piece of an upload, named by the SHA-1 of its bytes."""

    checksum = models.CharField(max_length=40, unique=True)
    data = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        app_label = "sentry"
        verbose_name = _("upload chunk")

    def __str__(self):
        return self.checksum


class ArtifactBundle(models.Model):
    """A zip of minified files and their source maps, as sentry-cli builds it."""

    checksum = models.CharField(max_length=40, unique=True)
    #: What ``--project`` named (a project id today).
    project = models.CharField(max_length=64, blank=True)
    release = models.CharField(max_length=200, blank=True, db_index=True)
    dist = models.CharField(max_length=64, blank=True)
    file_count = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "sentry"
        verbose_name = _("artifact bundle")
        ordering = ("-created",)

    def __str__(self):
        return f"{self.release or 'bundle'} ({self.checksum[:12]})"


class ArtifactFile(models.Model):
    """One file of a bundle: a minified script, a source map or a source."""

    bundle = models.ForeignKey(
        ArtifactBundle, on_delete=models.CASCADE, related_name="files"
    )
    #: The URL it is served from, as in the manifest (``~/assets/app.js``).
    url = models.CharField(max_length=1000)
    kind = models.CharField(max_length=32)
    #: Lowercase UUID with dashes, or empty.
    debug_id = models.CharField(max_length=36, blank=True)
    #: A minified file's ``Sourcemap`` header: where its map is.
    sourcemap = models.CharField(max_length=1000, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    #: The bytes, zlib-compressed.
    data = models.BinaryField()

    class Meta:
        app_label = "sentry"
        verbose_name = _("artifact file")
        indexes = [
            models.Index(fields=("debug_id", "kind"), name="sentry_artifact_debug_id"),
            models.Index(fields=("url",), name="sentry_artifact_url"),
        ]

    def __str__(self):
        return self.url
