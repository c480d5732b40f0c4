"""
The client: capture errors in the host application.

A client builds an event from an exception, a text or a logging record and
hands it to :meth:`SentryClient.send`. The default client stores it in this
site's database at once; subclasses send it elsewhere.

Nothing here ever raises into the caller: a failure is written, with the
event, to the ``sentry.errors`` logger and the caller gets ``None``. A capture
takes at most about ``SENTRY_CAPTURE_TIME_LIMIT`` (see :mod:`.capture`), and a
capture started while this thread is capturing already is refused.
"""

import asyncio
import functools
import itertools
import logging
import os
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .. import pipeline
from ..conf import settings
from ..scrubbing import process_scrubber
from ..utils import stacks
from ..utils.shaping import CUT_LABEL, Shaper, to_text
from . import capture
from .handlers import is_ignored_logger
from .request import get_request_data, get_request_url, get_user_data, get_view_name

error_logger = logging.getLogger("sentry.errors")

#: Attributes every LogRecord has; anything else came from ``extra=``.
RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()
) | {"message", "asctime", "taskName"}
#: ``extra=`` keys the client reads itself.
RECORD_SPECIAL = frozenset({"request", "url", "view", "data", "tags", "fingerprint"})

#: Exceptions that are how Django answers 404 and 403, not errors.
NOT_ERRORS = (Http404, PermissionDenied)


def should_skip(exc_type, exc_value):
    """Return whether an exception asks not to be recorded."""
    for candidate in (exc_value, exc_type):
        try:
            flag = getattr(candidate, "skip_sentry", False)
            # On the class, a property is the descriptor itself, not a flag.
            if flag and not isinstance(flag, property):
                return True
        except Exception:
            pass
    try:
        return isinstance(exc_value, NOT_ERRORS) or (
            isinstance(exc_type, type) and issubclass(exc_type, NOT_ERRORS)
        )
    except Exception:
        return False


class SentryClient:
    """Record errors in this site's database."""

    def create_from_exception(self, exc_info=None, url=None, view=None, **kwargs):
        """
        Record an exception and return the new ``message_id``.

        ``exc_info`` defaults to the exception being handled. Returns
        ``None`` when nothing was recorded (``skip_sentry``, no exception, a
        capture already running in this thread, or a failure, which is
        logged to ``sentry.errors``).
        """
        with capture.step(capture.ENTRY) as current:
            if current is None:
                return None
            return self._create_from_exception(exc_info, url, view, **kwargs)

    def _create_from_exception(self, exc_info, url, view, **kwargs):
        try:
            if exc_info is None or exc_info is True:
                exc_info = sys.exc_info()
            exc_type, exc_value, tb = exc_info
            if exc_value is None and exc_type is None:
                return None
            if exc_value is None:
                exc_value = exc_type()
            if should_skip(exc_type, exc_value):
                return None
            if tb is None:
                tb = stacks.link(exc_value, "__traceback__")
            if tb is not stacks.link(exc_value, "__traceback__"):
                exc_value = BaseException.with_traceback(exc_value, tb)
            return self.process(exception=exc_value, url=url, view=view, **kwargs)
        except Exception:
            self.report_failure(None)
            return None
        finally:
            exc_info = tb = exc_value = None

    def create_from_text(self, message, level=logging.ERROR, url=None, **kwargs):
        """Record a text message and return the new ``message_id``."""
        with capture.step(capture.ENTRY) as current:
            if current is None:
                return None
            try:
                return self.process(message=message, level=level, url=url, **kwargs)
            except Exception:
                self.report_failure(None)
                return None

    def create_from_record(self, record, **kwargs):
        """Record a ``logging.LogRecord`` and return the new ``message_id``."""
        if is_ignored_logger(getattr(record, "name", None)):
            return None
        with capture.step(capture.ENTRY) as current:
            if current is None:
                return None
            return self._create_from_record(record, current.shaper, **kwargs)

    def _create_from_record(self, record, shaper, **kwargs):
        try:
            if is_ignored_logger(record.name):
                return None
            params = dict(kwargs)
            extra = {
                key: value
                for key, value in vars(record).items()
                if key not in RECORD_ATTRIBUTES and key not in RECORD_SPECIAL
            }
            for key in RECORD_SPECIAL:
                if key in vars(record) and key not in params:
                    params[key] = getattr(record, key)
            data = params.pop("data", None)
            if extra or data:
                merged = dict(extra)
                if isinstance(data, dict):
                    merged.update(data)
                elif data is not None:
                    merged["data"] = data
                params["data"] = merged
            params.setdefault("logger", record.name)
            params.setdefault("level", record.levelno)
            params["message"] = record_message(record)
            params["template"] = shaper.text(record.msg, settings.MAX_LENGTH_MESSAGE)
            params["params"] = record.args
            exc_info = record.exc_info
            if exc_info and exc_info[1] is not None:
                if should_skip(exc_info[0], exc_info[1]):
                    return None
                params["exception"] = exc_info[1]
            return self.process(**params)
        except Exception:
            self.report_failure(None)
            return None

    def process(self, **kwargs):
        """
        Build an event from ``kwargs`` and send it; return its ``message_id``.

        Understood: ``exception``, ``message``, ``level``, ``logger``,
        ``url``, ``view``, ``request``, ``data`` (extra data), ``tags``,
        ``fingerprint``, ``server_name``, ``site``, ``message_id``,
        ``datetime``, ``mechanism`` (how an exception was caught), and
        ``template``/``params`` for logging records.
        """
        with capture.step(capture.PROCESS) as current:
            if current is None:
                return None
            event = None
            try:
                event = self.build_event(**kwargs)
                event = pipeline.prepare(
                    event, shaped=True, scrubber=process_scrubber()
                )
                return self.send(event)
            except Exception:
                self.report_failure(event)
                return None

    def build_event(
        self,
        exception=None,
        message=None,
        level=None,
        logger=None,
        url=None,
        view=None,
        request=None,
        data=None,
        tags=None,
        template=None,
        params=None,
        mechanism=None,
        **fields,
    ):
        """
        Return an event dict (see :mod:`sentry.pipeline`) of builtins.

        Values are shaped by the capture's shaper: what was not shaped
        within ``SENTRY_CAPTURE_TIME_LIMIT`` is cut, and ``data["_truncated"]``
        says so.
        """
        current = capture.current()
        shaper = current.shaper if current is not None else Shaper()
        event_data = {}
        event = {
            # An empty name is the default logger's, as it always was here
            # (only SDK events keep an empty one).
            "logger": _field(shaper, logger) or None,
            "level": level,
            "url": _field(shaper, url),
            "view": _field(shaper, view),
            "data": event_data,
        }
        if request is not None:
            # Before the stack: Django's own code, bounded by Django's limits,
            # and what the error happened to.
            event_data["request"] = shaper(get_request_data(request))
            user = get_user_data(request)
            if user:
                event_data["user"] = shaper(user)
            if not url:
                event["url"] = get_request_url(request)
        if exception is not None:
            builder = stacks.StackBuilder(shaper)
            values = stacks.exception_values(exception, builder)
            if isinstance(mechanism, dict):
                # How it was caught: e.g. {"type": "django", "handled": False}.
                values[-1]["mechanism"].update(shaper(mechanism))
            event_data["exception"] = {"values": values}
            event["class_name"] = type(exception).__name__
            event["traceback"] = stacks.render_traceback(values)
            if message is None:
                message = stacks.exception_text(
                    exception, shaper, settings.MAX_LENGTH_MESSAGE
                )
            if not view:
                event["view"] = culprit_from_frames(values)
        if level is None:
            event["level"] = logging.ERROR
        event["message"] = shaper.text(message or "", settings.MAX_LENGTH_MESSAGE)
        if template is not None:
            event_data["logentry"] = {
                "message": shaper.text(template, settings.MAX_LENGTH_MESSAGE),
                "params": shaper(params) if params else [],
            }
        if request is not None and not event["view"]:
            event["view"] = get_view_name(request)
        if data is not None:
            event_data["extra"] = shaper(
                data if isinstance(data, dict) else {"data": data}
            )
        if tags is not None:
            event_data["tags"] = shape_tags(tags, shaper)
        for name, value in deployment().items():
            event_data[name] = value
        for name in ("server_name", "site", "message_id", "checksum"):
            if fields.get(name) is not None:
                event[name] = _field(shaper, fields[name])
        if fields.get("datetime") is not None:
            event["datetime"] = fields["datetime"]
        fingerprint = fields.get("fingerprint")
        if type(fingerprint) in (list, tuple):
            event["fingerprint"] = [shaper.text(part, 200) for part in fingerprint[:32]]
        if shaper.cut:
            event_data["_truncated"] = [CUT_LABEL]
        return event

    def send(self, event):
        """Store a prepared event; return its ``message_id``."""
        if in_event_loop():
            # Django's ORM refuses to run in an event loop's thread (async
            # views): write from a worker thread and wait for it.
            return _writer().submit(_record_in_thread, event).result()
        return pipeline.record(event)

    def report_failure(self, event):
        """Write a failure, and the event when there is one, to ``sentry.errors``."""
        try:
            summary = describe_event(event) if event else "(no event was built)"
            error_logger.error(
                "Unable to record an error: %s",
                summary,
                exc_info=True,
                extra={"event": event},
            )
        except Exception:
            pass


class LoggingSentryClient(SentryClient):
    """Write events to the ``sentry.events`` logger instead of a database."""

    logger = logging.getLogger("sentry.events")

    def send(self, event):
        message = event["message"]
        if event.get("traceback"):
            message = f"{message}\n{event['traceback']}"
        self.logger.log(
            event["level"],
            "%s [%s] %s",
            event["logger"],
            event["message_id"],
            message,
            extra={"event": event},
        )
        return event["message_id"]


def deployment():
    """
    Return the release and environment this site's events come from.

    ``SENTRY_RELEASE`` and ``SENTRY_ENVIRONMENT`` from the settings, else
    from the process's environment variables of the same names, as
    sentry-sdk reads them (so one deployment variable serves both).
    Unset or empty: not sent.
    """
    found = {}
    for name in ("release", "environment"):
        value = getattr(settings, name.upper()) or os.environ.get(
            f"SENTRY_{name}".upper()
        )
        if isinstance(value, str) and value.strip():
            found[name] = value.strip()[:200]
    return found


def shape_tags(tags, shaper=None):
    """Return tags as ``{str: str}``: a mapping or ``(key, value)`` pairs."""
    shaper = shaper or Shaper()
    cls = type(tags)
    try:
        if issubclass(cls, dict):
            pairs = dict.items(tags)  # the dict's own storage, never its code
        elif issubclass(cls, Mapping):
            pairs = tags.items()
        else:
            pairs = tags
        # Only the pairs that are kept are read.
        pairs = [(key, value) for key, value in itertools.islice(iter(pairs), 50)]
    except Exception:
        return {}
    return {
        shaper.text(key, 32): shaper.text(value, 200)
        for key, value in pairs
        if value is not None
    }


def _field(shaper, value):
    """Return an event field passed by the caller as text (or None)."""
    if value is None or type(value) is str:
        return value
    return shaper.text(value, 1000)


def in_event_loop():
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@functools.cache
def _writer():
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="sentry-writer")


def _record_in_thread(event):
    from django.db import connections

    try:
        return pipeline.record(event)
    finally:
        # This thread sees no request_finished: never keep a connection open.
        connections.close_all()


def culprit_from_frames(values):
    """
    Return ``module.function`` of the frame most likely to blame.

    That is the innermost application frame (``SENTRY_INCLUDE_PATHS``, by
    default the installed apps); failing that, the innermost frame that is
    neither excluded nor part of the standard library or an installed package.
    """
    frames = [
        frame
        for value in reversed(values)
        for frame in reversed((value.get("stacktrace") or {}).get("frames") or [])
        if frame.get("module")
    ]
    for frame in frames:
        if frame.get("in_app"):
            return f"{frame['module']}.{frame.get('function') or '?'}"
    exclude = list(settings.EXCLUDE_PATHS)
    for frame in frames:
        if not stacks.contains(exclude, frame["module"]) and not stacks.is_library_path(
            frame.get("abs_path")
        ):
            return f"{frame['module']}.{frame.get('function') or '?'}"
    return ""


def record_message(record):
    """Return a record's formatted message, even when its arguments don't fit."""
    try:
        return to_text(record.getMessage())
    except Exception:
        return f"{to_text(record.msg)} {to_text(record.args)}"


def describe_event(event):
    try:
        import simplejson

        return simplejson.dumps(event, default=str, sort_keys=True)
    except Exception:
        return repr(event)
