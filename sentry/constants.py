"""Constants shared by the client and the server."""

import logging

# Group status.
STATUS_UNRESOLVED = 0
STATUS_RESOLVED = 1
STATUS_CHOICES = (
    (STATUS_UNRESOLVED, "Unresolved"),
    (STATUS_RESOLVED, "Resolved"),
)

# Levels are the standard library's.
LOG_LEVELS = (
    (logging.DEBUG, "debug"),
    (logging.INFO, "info"),
    (logging.WARNING, "warning"),
    (logging.ERROR, "error"),
    (logging.FATAL, "fatal"),
)
LEVEL_NAMES = dict(LOG_LEVELS)
LEVELS_BY_NAME = {name: level for level, name in LOG_LEVELS}
LEVELS_BY_NAME.update(
    {"warn": logging.WARNING, "critical": logging.FATAL, "log": logging.INFO}
)

DEFAULT_LOGGER = "root"

# Keys of the per-group value counters (MessageFilterValue) and distinct values
# (FilterValue) written for every occurrence.
COUNTED_KEYS = ("server_name", "site", "url", "logger", "level")
FILTERED_KEYS = ("server_name", "site", "logger", "level")
