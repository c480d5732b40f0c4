import logging

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_cache():
    # The flood guard counts in the cache: every test starts afresh.
    cache.clear()
    yield
    cache.clear()


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def sentry_errors():
    """Collect what is written to the ``sentry.errors`` logger."""
    handler = ListHandler()
    logger = logging.getLogger("sentry.errors")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
