"""
The rate limits, events per minute: ``ProjectKey.rate_limit``, ``Project.rate_limit``.

Every event counts, one per item: an envelope of 300 events is 300 events.
Events, feedback and user reports count against the limits (Sentry's
categories ``error``, ``default`` and ``feedback``); items that are not
stored (transactions, sessions, client reports, ...) are not counted.

A key's limit counts what is sent with that key; its project's limit
counts what all the project's keys send together. The key's is counted
first: an event it refuses uses none of the project's quota, so one noisy
key over its own limit does not eat the quota of the project's other keys.

Counted in the flood guard's cache (``SENTRY_CACHE_ALIAS``) in fixed
one-minute windows. A cache that fails lets events through: losing errors
is worse than storing a few too many.
"""

import math
import time

from django.core.cache import caches

from ..conf import settings
from .responses import RateLimited

WINDOW = 60

#: The scopes of ``X-Sentry-Rate-Limits``, in the order they are counted.
KEY = "key"
PROJECT = "project"


def admit(key, count, now=None):
    """
    Count ``count`` events for ``key`` and its project; return ``(admitted, scope)``.

    ``admitted`` is how many of them, the first ones, the limits still
    allow; ``scope`` names the limit that refused the others (``None``
    when all are admitted), for :func:`limited`.
    """
    now = time.time() if now is None else now
    scope = None
    admitted = _count(f"{KEY}:{key.pk}", key.rate_limit, count, now)
    if admitted < count:
        scope = KEY
    project = key.project
    passed = _count(f"{PROJECT}:{project.pk}", project.rate_limit, admitted, now)
    if passed < admitted:
        scope = PROJECT
    return passed, scope


def _count(name, limit, count, now):
    """Count ``count`` events in ``name``'s window; return how many fit ``limit``."""
    if not limit or count <= 0:
        return count
    cache_key = f"sentry:ingest:rate:{name}:{int(now // WINDOW)}"
    try:
        cache = caches[settings.CACHE_ALIAS]
        # One round trip: add() starts the window's count, incr() adds to it.
        if cache.add(cache_key, count, WINDOW + 5):
            total = count
        else:
            total = cache.incr(cache_key, count)
    except Exception:
        return count
    before = total - count
    return max(0, min(count, limit - before))


def limited(scope=KEY, now=None):
    """Return the :class:`RateLimited` of ``scope`` for the rest of the window."""
    now = time.time() if now is None else now
    window_end = (int(now // WINDOW) + 1) * WINDOW
    # Whole seconds to the end of the window, at least one.
    return RateLimited(max(math.ceil(window_end - now), 1), scope=scope)


def check_rate_limit(key, now=None):
    """Count one event for ``key``; raise :class:`RateLimited` over a limit."""
    admitted, scope = admit(key, 1, now)
    if not admitted:
        raise limited(scope, now)
