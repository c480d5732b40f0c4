"""Per-process objects (the embedded drainer, the remote transport)."""

import os

from sentry.utils import process
from sentry.utils.process import PerProcess


def test_one_object_per_process_and_a_new_one_after_a_fork(monkeypatch):
    made = []
    holder = PerProcess(object, on_create=made.append)
    first = holder.get()

    assert holder.get() is first
    assert made == [first]

    # A forked child: the same holder, another pid. (A real fork would
    # warn in this multi-threaded test process on Python 3.12+.)
    parent = os.getpid()
    monkeypatch.setattr(process.os, "getpid", lambda: parent + 1)
    child = holder.get()

    assert child is not first
    assert made == [first, child]
    assert holder.get() is child
