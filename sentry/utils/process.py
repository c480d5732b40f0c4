"""Objects that belong to one process: made again in a forked child."""

import os
import threading


class PerProcess:
    """
    Hold one ``factory()`` per process: :meth:`get` makes it on first use,
    and again after a fork (a child inherits the parent's object, but not
    its threads). ``on_create(obj)`` runs once for each one made.
    """

    def __init__(self, factory, on_create=None):
        self.factory = factory
        self.on_create = on_create
        self.lock = threading.Lock()
        self.obj = None
        self.pid = None

    def get(self):
        pid = os.getpid()
        if self.obj is not None and self.pid == pid:
            return self.obj
        with self.lock:
            if self.obj is None or self.pid != pid:
                self.obj = self.factory()
                self.pid = pid
                if self.on_create is not None:
                    self.on_create(self.obj)
            return self.obj
