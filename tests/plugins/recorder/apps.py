import threading

from django.apps import AppConfig
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sentry.plugins import Plugin


class RecorderPlugin(Plugin):
    """Writes down every post_process call; tests make it fail or wait."""

    slug = "recorder"
    title = "Recorder"
    post_process_retry_delay = 0.01

    calls = []
    #: Raise this many times before answering.
    failures = 0
    #: When set, post_process waits for it (to show recording does not).
    gate = None
    #: Set when a call reached the gate.
    entered = threading.Event()
    enabled = True

    def wants_post_process(self):
        return type(self).enabled

    def post_process(self, group, event, is_new, is_regression, **kwargs):
        cls = type(self)
        if cls.gate is not None:
            cls.entered.set()
            cls.gate.wait(10)
        with CaptureQueriesContext(connection) as queries:
            project = group.project.slug
            assert event.group is group or event.group.pk == group.pk
        call = {
            "group": group,
            "event": event,
            "is_new": is_new,
            "is_regression": is_regression,
            "kwargs": kwargs,
            "project": project,
            "queries": len(queries),
            "thread": threading.current_thread().name,
        }
        cls.calls.append(call)
        if cls.failures:
            cls.failures -= 1
            raise ConnectionError("receiver down")

    @classmethod
    def reset(cls):
        cls.calls = []
        cls.failures = 0
        cls.gate = None
        cls.entered = threading.Event()
        cls.enabled = True


class RecorderConfig(AppConfig):
    name = "tests.plugins.recorder"
    label = "tests_recorder_plugin"
    sentry_plugin = RecorderPlugin
