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

# Keys whose distinct values (FilterValue) feed the stream's filter choices.
FILTERED_KEYS = ("server_name", "site", "logger", "level")

#: The site's own project: always there after ``migrate``.
DEFAULT_PROJECT_ID = 1
#: The longest ``Project.retention_days``: a century.
MAX_RETENTION_DAYS = 36500
