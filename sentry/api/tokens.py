"""API tokens: a secret that acts as one user, for scripts and feed readers."""

import hashlib
import secrets

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: Prefix of every token, so that a leaked one is easy to recognise.
TOKEN_PREFIX = "sntr_"


def hash_token(token):
    """Return the stored form of a token: only its SHA-256 digest is kept."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiTokenManager(models.Manager):
    def create_token(self, user, label=""):
        """Create a token for ``user``; return ``(token_row, plaintext)``."""
        plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = self.create(user=user, label=label, key_hash=hash_token(plaintext))
        return row, plaintext

    def authenticate(self, plaintext):
        """Return the active user a token belongs to, or None."""
        if not plaintext or not plaintext.startswith(TOKEN_PREFIX):
            return None
        try:
            # An indexed lookup of the digest: comparing digests leaks nothing
            # about the token itself.
            row = self.select_related("user").get(key_hash=hash_token(plaintext))
        except self.model.DoesNotExist:
            return None
        if not row.user.is_active:
            return None
        self.filter(pk=row.pk).update(last_used=timezone.now())
        return row.user


class ApiToken(models.Model):
    """A token that authenticates API and feed requests as its user."""

    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    label = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenManager()

    class Meta:
        app_label = "sentry"
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.label or 'token'} ({self.user})"
