"""
Who is sending: credentials from the request, and the key they name.

Credentials may come from the ``X-Sentry-Auth`` header, an ``Authorization:
Sentry ...`` (or ``Basic``) header, the ``sentry_key`` query parameter or an
envelope header's ``dsn``. Every reason to refuse a key -- unknown, inactive,
another project, wrong secret -- gets the same 403, so that the answer tells
nothing about which keys exist.
"""

import base64
import binascii
import hmac
import threading
import time
from urllib.parse import urlsplit

from django.db.models.signals import post_delete, post_save

from ..conf import settings
from .decoding import whole_number
from .keys import ProjectKey
from .responses import BadRequest, Forbidden, Unauthorized

#: Newest protocol version understood (sentry-sdk 2.x sends 7).
PROTOCOL_VERSION = 7
#: Longest public key looked up; ours are 32 characters.
MAX_KEY_LENGTH = 64

FORBIDDEN = "invalid, inactive or foreign key for this project"


class Credentials:
    """What a request says about its sender."""

    __slots__ = ("public_key", "secret_key", "version", "client", "source")

    def __init__(
        self, public_key, secret_key=None, version=None, client=None, source=""
    ):
        self.public_key = public_key
        self.secret_key = secret_key or None
        self.version = version
        self.client = client
        self.source = source

    def __repr__(self):
        return f"<Credentials {self.public_key!r} from {self.source}>"


def parse_sentry_auth(value):
    """
    Return the ``name=value`` pairs of a ``Sentry ...`` auth header, or None.

    Lenient like Sentry's servers: whitespace is trimmed, the ``sentry_``
    prefix is optional and unknown pairs are ignored.
    """
    if not isinstance(value, str):
        return None
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "sentry":
        return None
    pairs = {}
    for part in rest.split(","):
        name, sep, item = part.partition("=")
        if not sep:
            continue
        name = name.strip().lower()
        if name.startswith("sentry_"):
            name = name[len("sentry_") :]
        pairs[name] = item.strip().strip('"')
    return pairs


def _from_pairs(pairs, source):
    if not pairs or not pairs.get("key"):
        raise Unauthorized(f"no sentry_key in the {source}")
    return Credentials(
        pairs["key"],
        pairs.get("secret"),
        pairs.get("version"),
        pairs.get("client"),
        source,
    )


def _from_basic(value):
    try:
        decoded = base64.b64decode(value.strip()[len("basic ") :], validate=True)
        user, _, password = decoded.decode("utf-8").partition(":")
    except (binascii.Error, ValueError):
        raise Unauthorized("unparsable Authorization header") from None
    if not user:
        raise Unauthorized("no public key in the Authorization header")
    return Credentials(user, password, source="Authorization header")


def _from_dsn(dsn):
    try:
        parts = urlsplit(dsn)
        public_key, secret_key = parts.username, parts.password
    except (ValueError, TypeError):
        raise Unauthorized("unparsable dsn in the envelope header") from None
    if not public_key:
        raise Unauthorized("no public key in the envelope header's dsn")
    return Credentials(public_key, secret_key, source="envelope dsn")


def request_credentials(request):
    """Return the credentials in the request's headers and query, or None."""
    found = []
    # META, not request.headers: that builds a dict of every header first.
    header = request.META.get("HTTP_X_SENTRY_AUTH")
    if header:
        pairs = parse_sentry_auth(header)
        if pairs is None:
            raise Unauthorized("unparsable X-Sentry-Auth header")
        found.append(_from_pairs(pairs, "X-Sentry-Auth header"))
    authorization = request.META.get("HTTP_AUTHORIZATION")
    if authorization:
        if authorization.strip().lower().startswith("sentry "):
            pairs = parse_sentry_auth(authorization)
            found.append(_from_pairs(pairs, "Authorization header"))
        elif authorization.strip().lower().startswith("basic "):
            found.append(_from_basic(authorization))
    # Parsed only when there is one (browser SDKs send the key there).
    if request.META.get("QUERY_STRING") and "sentry_key" in request.GET:
        pairs = {
            name[len("sentry_") :]: request.GET.get(name)
            for name in (
                "sentry_key",
                "sentry_secret",
                "sentry_version",
                "sentry_client",
            )
            if name in request.GET
        }
        found.append(_from_pairs(pairs, "query string"))
    return _one_of(found)


def envelope_credentials(envelope_headers):
    """Return the credentials of an envelope header's ``dsn``, or None."""
    dsn = envelope_headers.get("dsn")
    if dsn is None:
        return None
    if not isinstance(dsn, str):
        raise Unauthorized("unparsable dsn in the envelope header")
    return _from_dsn(dsn)


def _one_of(found):
    if not found:
        return None
    if len({credentials.public_key for credentials in found}) > 1:
        raise Unauthorized("multiple authorization payloads detected")
    return found[0]


def combine(*candidates):
    """Return the one sender all present credentials agree on, or None."""
    return _one_of([c for c in candidates if c is not None])


def check_version(credentials):
    """Refuse protocol versions that are not numbers, or newer than understood."""
    version = credentials.version
    if version in (None, ""):
        return
    # "7" or "7.0": ASCII digits only (int(float(...)) of "inf" or "1e400"
    # raised OverflowError, a 500).
    whole, _, fraction = str(version).strip().partition(".")
    number = whole_number(whole, 4)
    if number is None or (fraction and whole_number(fraction, 4) is None):
        raise BadRequest(f"unparsable protocol version {version[:20]!r}")
    if number > PROTOCOL_VERSION:
        raise BadRequest(f"unsupported protocol version {version[:20]}")


def get_key(credentials, project_id):
    """Return the active :class:`ProjectKey` the credentials name for the project."""
    if credentials is None:
        raise Unauthorized("missing authorization information")
    check_version(credentials)
    public_key = credentials.public_key
    if not isinstance(public_key, str) or len(public_key) > MAX_KEY_LENGTH:
        raise Forbidden(FORBIDDEN)
    key = lookup_key(public_key)
    if key is None or not key.is_active or key.project_id != project_id:
        raise Forbidden(FORBIDDEN)
    # The secret is deprecated and never required; a wrong one is refused.
    if (
        credentials.secret_key
        and key.secret_key
        and not hmac.compare_digest(
            credentials.secret_key.encode("utf-8"), key.secret_key.encode("utf-8")
        )
    ):
        raise Forbidden(FORBIDDEN)
    return key


# --- the key cache -------------------------------------------------------------
#
# Every event names its key, and looking it up costs more than queuing the
# event. Keys change rarely: each process keeps what it looked up (unknown
# keys too) for SENTRY_INGEST_KEY_CACHE_TIMEOUT seconds, and forgets it at
# once when this process saves or deletes a key or a project. One changed
# elsewhere (the admin of another process) takes effect everywhere within the
# timeout.

#: Keys remembered at most; beyond, the cache starts afresh (key spraying).
KEY_CACHE_SIZE = 1000

_key_cache = {}
_key_cache_lock = threading.Lock()


def lookup_key(public_key):
    """Return the :class:`ProjectKey` with this public key, or None (cached)."""
    timeout = settings.INGEST_KEY_CACHE_TIMEOUT
    now = time.monotonic()
    if timeout:
        cached = _key_cache.get(public_key)
        if cached is not None and cached[0] > now:
            return cached[1]
    # With its project: the project's rate limit is read for every event.
    keys = ProjectKey.objects.select_related("project")
    key = keys.filter(public_key=public_key).first()
    if not timeout:
        return key
    with _key_cache_lock:
        if len(_key_cache) >= KEY_CACHE_SIZE:
            _key_cache.clear()
        _key_cache[public_key] = (now + timeout, key)
    return key


def forget_keys(**kwargs):
    """Empty the key cache (a key was saved or deleted)."""
    with _key_cache_lock:
        _key_cache.clear()


post_save.connect(forget_keys, sender=ProjectKey, dispatch_uid="sentry.forget_keys")
post_delete.connect(forget_keys, sender=ProjectKey, dispatch_uid="sentry.forget_keys")
# A cached key carries its project: a changed rate limit is seen at once.
post_save.connect(
    forget_keys, sender="sentry.Project", dispatch_uid="sentry.forget_keys_project"
)
post_delete.connect(
    forget_keys, sender="sentry.Project", dispatch_uid="sentry.forget_keys_project"
)
