"""
The per-key rate limit: ``ProjectKey.rate_limit`` events per minute.

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


def check_rate_limit(key, now=None):
    """Count one event for ``key``; raise :class:`RateLimited` over its limit."""
    limit = key.rate_limit
    if not limit:
        return
    now = time.time() if now is None else now
    window = int(now // WINDOW)
    cache_key = f"sentry:ingest:rate:{key.pk}:{window}"
    try:
        cache = caches[settings.CACHE_ALIAS]
        if cache.add(cache_key, 1, WINDOW + 5):
            return
        count = cache.incr(cache_key)
    except Exception:
        return
    if count > limit:
        # Whole seconds to the end of the window, at least one.
        raise RateLimited(max(math.ceil((window + 1) * WINDOW - now), 1))
