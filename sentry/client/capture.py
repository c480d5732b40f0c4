"""
One capture at a time per thread, within a time budget.

A capture (``create_from_exception()``, ``create_from_text()``,
``create_from_record()``, the logging handler, the request signal) opens a
:class:`Capture` for its thread. The capture's :class:`~sentry.utils.shaping.Shaper`
stops calling the site's code at ``SENTRY_CAPTURE_TIME_LIMIT`` and cuts what
is left.

While a capture is open, another one started in the same thread -- by a
``__repr__`` or ``__str__`` that records or logs an error, a logging handler
called while the event is stored, a signal handler -- is refused: it returns
``None`` at once, and the first refusal of each capture is written to
``sentry.errors``. Without that, a ``__repr__`` that records an error would
capture itself without end.
"""

import contextlib
import logging
import math
import threading
import time

from ..conf import DEFAULTS, settings
from ..utils.shaping import Shaper

error_logger = logging.getLogger("sentry.errors")

#: The steps a capture goes through, in order. A step may be entered once per
#: capture: the handler hands a record to the client, whose entry point hands
#: it to ``process()``; anything else while the capture is open is re-entry.
HANDLER, ENTRY, PROCESS = 1, 2, 3

_local = threading.local()


class Capture:
    """The capture open in this thread: its shaper and how far it got."""

    def __init__(self, step):
        self.step = step
        self.started = time.monotonic()
        limit = time_limit()
        self.deadline = self.started + limit if limit else None
        self.refused = False
        self._shaper = None

    @property
    def shaper(self):
        """The capture's shaper (settings are read when it is first needed)."""
        if self._shaper is None:
            self._shaper = Shaper(deadline=self.deadline)
        return self._shaper

    @property
    def cut(self):
        """Whether something was left out because the time ran out."""
        return self._shaper is not None and self._shaper.cut


def time_limit():
    """Return ``SENTRY_CAPTURE_TIME_LIMIT`` in seconds (None: no limit)."""
    limit = settings.CAPTURE_TIME_LIMIT
    if not limit:
        return None
    try:
        seconds = float(limit)
    except (TypeError, ValueError):
        # A capture never raises, even for a setting it cannot read.
        seconds = DEFAULTS["CAPTURE_TIME_LIMIT"]
    return seconds if 0 < seconds < math.inf else None


def current():
    """Return the capture open in this thread, or None."""
    return getattr(_local, "capture", None)


@contextlib.contextmanager
def step(name):
    """
    Enter step ``name`` of this thread's capture; yield it, or None if refused.

    With no capture open, open one (closed on leaving). With one open, go on
    only to a later step; a step reached again is a capture that started
    while this one runs: refused.
    """
    capture = current()
    if capture is None:
        capture = _local.capture = Capture(name)
        try:
            yield capture
        finally:
            _local.capture = None
        return
    if name > capture.step:
        previous, capture.step = capture.step, name
        try:
            yield capture
        finally:
            capture.step = previous
        return
    refuse(capture)
    yield None


def refuse(capture):
    """Note a refused re-entrant capture (written to ``sentry.errors`` once)."""
    if capture.refused:
        return
    capture.refused = True
    try:
        error_logger.warning(
            "Refused to record an error while this thread was already capturing "
            "one (a __repr__, __str__ or logging handler called during capture "
            "records or logs errors itself); it was not recorded."
        )
    except Exception:
        pass
