"""
Free words: the one place that decides how text is found.

Each word must be found (case-insensitively, as a substring) in one of the
group's message, type (``class_name``), culprit (``view``) or stack trace
(``GroupedMessage.traceback``, plain text: frame files, functions and
context lines). This is a scan, not an index: a full-text backend
(PostgreSQL GIN, SQLite FTS5) replaces :func:`free_text_filter` alone.

An occurrence's stack trace is stored packed (compressed), so occurrences
are found by their message and type only.
"""

from django.db.models import Q

#: What a group's free words are looked for in.
GROUP_TEXT_COLUMNS = ("message", "class_name", "view", "traceback")
#: What an occurrence's free words are looked for in.
OCCURRENCE_TEXT_COLUMNS = ("message", "class_name")


def free_text_filter(words):
    """Return the condition on groups: every word in some text column."""
    return _each_word_in(words, GROUP_TEXT_COLUMNS)


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
