"""
API tokens: a secret that acts as one user, for scripts and feed readers.

A token carries scopes, what it may be used for, and may expire:

* ``feed:read``: the RSS feeds, and nothing else. Feed readers send the token
  in the URL (``?token=``), where access logs and proxies keep it: it must not
  open anything more.
* ``event:read``: the JSON API's reads (errors and their occurrences, in full).
* ``event:write``: resolving and unresolving errors through the JSON API.
* ``upload``: uploading source maps with ``sentry-cli`` (the ``/api/0/``
  endpoints of :mod:`sentry.upload_urls`), and nothing else: build machines
  keep it, and it must not read a single error.

A token never does more than its user may do.
"""

import hashlib
import secrets

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: Prefix of every token, so that a leaked one is easy to recognise.
TOKEN_PREFIX = "sntr_"

FEED_READ = "feed:read"
EVENT_READ = "event:read"
EVENT_WRITE = "event:write"
UPLOAD = "upload"
#: Every scope, with what it allows.
SCOPES = {
    FEED_READ: "the RSS feeds only",
    EVENT_READ: "the JSON API's reads",
    EVENT_WRITE: "resolving and unresolving through the JSON API",
    UPLOAD: "uploading source maps with sentry-cli, nothing else",
}
#: Scopes of a new token unless others are asked for: the least privilege.
DEFAULT_SCOPES = (FEED_READ,)
#: Scopes that tokens made before scopes existed keep (migration 0008), so
#: that upgrading breaks no script: what every token could do then.
LEGACY_SCOPES = (FEED_READ, EVENT_READ, EVENT_WRITE)


def hash_token(token):
    """Return the stored form of a token: only its SHA-256 digest is kept."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def scopes_text(scopes):
    """Return scopes as stored: known names, sorted, space-separated."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"Unknown token scopes: {', '.join(sorted(unknown))}")
    return " ".join(sorted(set(scopes)))


class ApiTokenManager(models.Manager):
    def create_token(self, user, label="", scopes=DEFAULT_SCOPES, expires=None):
        """
        Create a token for ``user``; return ``(token_row, plaintext)``.

        ``scopes`` default to :data:`DEFAULT_SCOPES`; ``expires`` is a
        datetime after which the token no longer works (None: never).
        """
        plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = self.create(
            user=user,
            label=label,
            key_hash=hash_token(plaintext),
            scopes=scopes_text(scopes),
            expires=expires,
        )
        return row, plaintext

    def get_valid(self, plaintext):
        """
        Return the token row for ``plaintext`` when it may be used, or None.

        Unknown, expired and deactivated users' tokens are all None: whoever
        holds a token cannot tell which it was.
        """
        if not plaintext or not isinstance(plaintext, str):
            return None
        if not plaintext.startswith(TOKEN_PREFIX):
            return None
        try:
            # An indexed lookup of the digest: comparing digests leaks nothing
            # about the token itself.
            row = self.select_related("user").get(key_hash=hash_token(plaintext))
        except self.model.DoesNotExist:
            return None
        if row.is_expired() or not row.user.is_active:
            return None
        return row

    def authenticate(self, plaintext, scope):
        """Return the active user of a valid token that has ``scope``, or None."""
        row = self.get_valid(plaintext)
        if row is None or not row.allows(scope):
            return None
        row.touch()
        return row.user


class ApiToken(models.Model):
    """A token that authenticates API and feed requests as its user."""

    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    label = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.CharField(
        max_length=200,
        default=" ".join(DEFAULT_SCOPES),
        help_text=_("What the token may be used for: " + ", ".join(SCOPES) + "."),
    )
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField(
        null=True, blank=True, help_text=_("The token stops working then.")
    )
    last_used = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenManager()

    class Meta:
        app_label = "sentry"
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.label or 'token'} ({self.user})"

    def scope_list(self):
        """Return the token's scopes, as a list of names."""
        return [scope for scope in self.scopes.split() if scope in SCOPES]

    def allows(self, scope):
        """Return whether the token has ``scope``."""
        return scope in self.scope_list()

    def is_expired(self, now=None):
        """Return whether the token's expiry has passed."""
        return self.expires is not None and self.expires <= (now or timezone.now())

    def touch(self):
        """Note that the token was used just now."""
        type(self).objects.filter(pk=self.pk).update(last_used=timezone.now())
