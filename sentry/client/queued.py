"""
The queued client: capture into the queue, digest later.

``SENTRY_CLIENT = "sentry.client.queued.QueuedSentryClient"`` makes
``create_from_exception()`` and the others build, shape and scrub the event
(the process has it in hand: nothing unscrubbed is written, not even to the
queue) and insert it into the queue (:mod:`sentry.queue`), in the same
database, committed before the call returns; grouping and storing happen in
the digest (``SENTRY_DIGEST``), off the request. The returned ``message_id``
is the id the occurrence will be stored under, but the rows appear only once
the event is digested: tests that read them right after the call want the
default, synchronous client.
"""

import datetime as dt
import json

from .. import drain, queue
from ..db import DEFERRED, get_write_alias, run_in_transaction
from .base import SentryClient, _writer, in_event_loop


def _default(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


class QueuedSentryClient(SentryClient):
    """Queue this site's errors for the digest instead of storing them at once."""

    def send(self, event):
        """Insert a built event into the queue; return its ``message_id``."""
        if in_event_loop():
            return _writer().submit(self._enqueue, event, True).result()
        return self._enqueue(event)

    def _enqueue(self, event, close=False):
        body = json.dumps(event, default=_default, ensure_ascii=False).encode()
        entry = queue.Entry(
            event["message_id"],
            queue.KIND_CLIENT,
            body,
            project_id=event.get("project"),
        )
        alias = get_write_alias(queue.QueuedEvent)
        try:
            result = run_in_transaction(
                lambda using: queue.enqueue(using, [entry]), alias
            )
        finally:
            if close:
                from django.db import connections

                connections.close_all()
        if result is not DEFERRED:
            drain.after_enqueue(alias)
        return event["message_id"]
