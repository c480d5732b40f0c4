"""
Free words: the one place that decides how text is found.

Each word must be found in one of the group's message, type
(``class_name``), culprit (``view``) or stack trace
(``GroupedMessage.traceback``, plain text: frame files, functions and
context lines), ignoring case. On SQLite and PostgreSQL a full-text index
finds it (:mod:`.index`: words, their case humps, the last one a prefix);
on other databases, and for a word with no letter or digit, it is a
substring of the columns (a scan).

An occurrence's stack trace is stored packed (compressed) and occurrences
have no index: they are found by their message and type, as substrings.
"""

from django.db import connections, router
from django.db.models import Q
from django.db.models.expressions import RawSQL

from ..models import GroupedMessage
from . import index

#: What a group's free words are looked for in.
GROUP_TEXT_COLUMNS = ("message", "class_name", "view", "traceback")
#: What an occurrence's free words are looked for in.
OCCURRENCE_TEXT_COLUMNS = ("message", "class_name")


def free_text_filter(words):
    """Return the condition on groups: every word in some text column."""
    connection = connections[router.db_for_read(GroupedMessage)]
    if not index.has_index(connection):
        return _each_word_in(words, GROUP_TEXT_COLUMNS)
    indexed = [word for word in words if index.split_words(word)]
    scanned = [word for word in words if not index.split_words(word)]
    condition = _each_word_in(scanned, GROUP_TEXT_COLUMNS)
    if indexed:
        sql, params = index.matching_sql(connection.vendor, indexed)
        condition &= Q(pk__in=RawSQL(sql, params))
    return condition


def occurrence_text_filter(words):
    """Return the condition on occurrences: every word in message or type."""
    return _each_word_in(words, OCCURRENCE_TEXT_COLUMNS)


def _each_word_in(words, columns):
    condition = Q()
    for word in words:
        found = Q()
        for column in columns:
            found |= Q(**{f"{column}__icontains": word})
        condition &= found
    return condition
