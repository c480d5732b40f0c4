"""
The per-key rate limit: ``ProjectKey.rate_limit`` events per minute.

Every event counts, one per item: an envelope of 300 events is 300 events.
Events, feedback and user reports count against the one limit (Sentry's
categories ``error``, ``default`` and ``feedback``); items that are not
stored (transactions, sessions, client reports, ...) are not counted.

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


def admit(key, count, now=None):
    """
    Count ``count`` events for ``key``; return how many of them are admitted.

    The first ones, up to what the window still allows; the others are
    over the limit (see :func:`limited`).
    """
    limit = key.rate_limit
    if not limit or count <= 0:
        return count
    now = time.time() if now is None else now
    cache_key = f"sentry:ingest:rate:{key.pk}:{int(now // WINDOW)}"
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


def limited(now=None):
    """Return the :class:`RateLimited` refusal for the rest of the window."""
    now = time.time() if now is None else now
    window_end = (int(now // WINDOW) + 1) * WINDOW
    # Whole seconds to the end of the window, at least one.
    return RateLimited(max(math.ceil(window_end - now), 1))


def check_rate_limit(key, now=None):
    """Count one event for ``key``; raise :class:`RateLimited` over its limit."""
    if not admit(key, 1, now):
        raise limited(now)
