"""
The classic Django-to-Django remote protocol, as it travels.

A reporting site ``POST``\\ s one prepared event to a central server's
``store/`` endpoint:

* body: the event as JSON (simplejson), compressed with zlib
  (``Content-Type: application/json``, ``Content-Encoding: deflate``);
* ``X-Sentry-Timestamp``: the Unix time of sending, whole seconds;
* ``X-Sentry-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with
  ``SENTRY_KEY``, of the timestamp, a newline and the body as sent.

The signature covers the compressed bytes, so the server checks it before it
inflates anything, and the timestamp, so that a captured request cannot be
replayed outside the server's window (``SENTRY_REMOTE_MAX_AGE``). JSON only:
nothing received is ever unpickled.
"""

import datetime as dt
import hashlib
import hmac
import zlib

import simplejson

SIGNATURE_HEADER = "X-Sentry-Signature"
TIMESTAMP_HEADER = "X-Sentry-Timestamp"
CONTENT_TYPE = "application/json"
CONTENT_ENCODING = "deflate"
SIGNATURE_PREFIX = "sha256="


def _default(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def encode_event(event):
    """Return the request body for a prepared event."""
    text = simplejson.dumps(event, default=_default, ensure_ascii=False)
    return zlib.compress(text.encode("utf-8"))


def _to_bytes(key):
    return key if isinstance(key, bytes) else str(key).encode("utf-8")


def sign(key, timestamp, body):
    """Return the ``X-Sentry-Signature`` value for a body sent at ``timestamp``."""
    message = str(int(timestamp)).encode("ascii") + b"\n" + body
    digest = hmac.new(_to_bytes(key), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify(key, timestamp, body, signature):
    """Return whether ``signature`` is the one ``key`` gives (constant time)."""
    expected = sign(key, timestamp, body)
    return hmac.compare_digest(expected.encode("ascii"), _to_bytes(signature))
