"""
The full-text index of groups: how free words are found on SQLite and PostgreSQL.

What is indexed, per group: its message, type (``class_name``), culprit
(``view``) and stack trace text (``traceback``: the first occurrence's
frames -- file or module, function -- and context lines), the first
:data:`MAX_TEXT` characters of them. The text is cut into words here, in
Python, the same way on both databases and for the query: a word is a run of
letters and digits (so ``apply_discount``, ``app.bundle.js`` and
``Acc::ConfigError`` are the words ``apply discount``, ``app bundle js`` and
``acc configerror``), lower-cased and cut to :data:`MAX_WORD` characters.
A second column holds the same words split at their case humps
(``ConfigError``: ``config error``, ``getHTTPResponse``: ``get http
response``), so that a part of an identifier is found too.

A search word is read into words the same way and found when they follow one
another in either column, the last one as a prefix (``disc`` finds
``discount``, ``apply_disc`` finds ``apply_discount``). A search word with
no letter or digit at all (``::``) is looked for as before, as a substring
of the columns (a scan).

The index is a table of its own, ``sentry_groupsearch``: an FTS5 table on
SQLite (rowid: the group's id), ``(group_id, words, parts)`` tsvectors with
GIN indexes on PostgreSQL ('simple' configuration: code is not stemmed).
Rows are written with the group, in its transaction (by
``GroupedMessage.save()``, which the storage creates groups with), and
rewritten when a group's text changes (:func:`reindex`: code that writes
groups with ``update()`` or ``bulk_create()`` calls it); a trigger on the group table
deletes them with their group, whatever deletes it (``cleanup_sentry``, the
admin, a project's deletion). Other databases have no index and scan.
"""

import re

from django.db import connections

#: Characters of a group's text that are indexed.
MAX_TEXT = 64 * 1024
#: Characters of one word that are kept (the rest is dropped, on both sides).
MAX_WORD = 64
#: The index table.
TABLE = "sentry_groupsearch"
VENDORS = ("sqlite", "postgresql")

#: What separates words: anything that is not a letter or a digit. One
#: character class, repeated: matched in one pass, no backtracking.
SEPARATORS = re.compile(r"[\W_]+")


def has_index(connection):
    """Return whether ``connection``'s database has the full-text index."""
    return connection.vendor in VENDORS


#: The SQLite trigger that deletes a group's row with the group.
SQLITE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS sentry_groupsearch_forget AFTER DELETE ON "
    "sentry_groupedmessage BEGIN DELETE FROM sentry_groupsearch "
    "WHERE rowid = OLD.id; END"
)


def ensure_trigger(using="default", **kwargs):
    """
    Put the SQLite trigger back if a migration dropped it (``post_migrate``).

    SQLite alters a table by making it anew, which drops its triggers: a
    later migration that changes the group table (0020 does) would leave
    deleted groups' rows in the index. After every migrate the trigger is
    made again and rows left without their group are removed. PostgreSQL
    keeps its triggers through ``ALTER TABLE``: nothing to do there.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if TABLE not in tables or "sentry_groupedmessage" not in tables:
            return
        cursor.execute(SQLITE_TRIGGER)
        cursor.execute(
            f"DELETE FROM {TABLE} WHERE rowid NOT IN "
            "(SELECT id FROM sentry_groupedmessage)"
        )


def group_text(message, class_name, view, traceback):
    """Return the text of a group that is indexed (bounded)."""
    text = "\n".join(part for part in (message, class_name, view, traceback) if part)
    return text[:MAX_TEXT]


def split_words(text):
    """Return the words of ``text``: runs of letters and digits, as written."""
    return [word[:MAX_WORD] for word in SEPARATORS.split(text) if word]


def humps(word):
    """Return ``word`` cut at its humps: ``getHTTPResponse``: get HTTP Response."""
    if word.islower() or word.isupper() or len(word) < 2:
        return [word]
    parts = []
    start = 0
    last = len(word) - 1
    for index in range(1, len(word)):
        char = word[index]
        if not char.isupper():
            continue
        before = word[index - 1]
        if (
            before.islower()
            or before.isdigit()
            or (before.isupper() and index < last and word[index + 1].islower())
        ):
            parts.append(word[start:index])
            start = index
    parts.append(word[start:])
    return parts


def columns(text):
    """Return the ``(words, parts)`` columns of ``text``: lower-cased words."""
    words = split_words(text)
    return (
        " ".join(word.lower() for word in words),
        " ".join(part.lower() for word in words for part in humps(word)),
    )


# --- writing -----------------------------------------------------------------


def index_groups(using, groups):
    """
    Write the index rows of ``groups``: ``(id, message, class_name, view, traceback)``.

    In the caller's transaction; a group indexed already is indexed anew.
    """
    connection = connections[using]
    if not groups or not has_index(connection):
        return
    rows = []
    for group_id, *text in groups:
        rows.append((group_id, *columns(group_text(*text))))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 100):
            part = rows[start : start + 100]
            if connection.vendor == "sqlite":
                values = ", ".join(["(%s, %s, %s)"] * len(part))
                cursor.execute(
                    f"INSERT OR REPLACE INTO {TABLE} (rowid, words, parts) "
                    f"VALUES {values}",
                    [value for row in part for value in row],
                )
            else:
                values = ", ".join(
                    ["(%s, to_tsvector('simple', %s), to_tsvector('simple', %s))"]
                    * len(part)
                )
                cursor.execute(
                    f"INSERT INTO {TABLE} (group_id, words, parts) VALUES {values} "
                    "ON CONFLICT (group_id) DO UPDATE SET words = EXCLUDED.words, "
                    "parts = EXCLUDED.parts",
                    [value for row in part for value in row],
                )


def reindex(using, group_ids):
    """Index the groups ``group_ids`` anew from their columns (their text changed)."""
    from ..models import GroupedMessage

    rows = GroupedMessage.objects.using(using).filter(pk__in=group_ids)
    index_groups(
        using,
        list(rows.values_list("pk", "message", "class_name", "view", "traceback")),
    )


# --- reading -----------------------------------------------------------------


def word_query(vendor, word):
    """
    Return the index query of one search word on ``vendor``, or ``None``.

    ``None``: the word has no letter or digit, and the index cannot find it.
    The words are written into the query syntax as quoted strings (quotes
    doubled), so no search word is ever read as an operator.
    """
    words = split_words(word)
    if not words:
        return None
    whole = [part.lower() for part in words]
    parts = [part.lower() for w in words for part in humps(w)]
    if vendor == "sqlite":
        return f"(words : {_fts_phrase(whole)} OR parts : {_fts_phrase(parts)})"
    return (_ts_phrase(whole), _ts_phrase(parts))


def _fts_phrase(words):
    # '"a" + "b" *': a phrase whose last word is a prefix.
    return " + ".join('"' + word.replace('"', '""') + '"' for word in words) + " *"


def _ts_phrase(words):
    quoted = [
        "'" + word.replace("\\", "\\\\").replace("'", "''") + "'" for word in words
    ]
    quoted[-1] += ":*"
    return " <-> ".join(quoted)


def matching_sql(vendor, words):
    """
    Return ``(sql, params)`` selecting the ids of groups every word is in.

    ``words`` are search words the index can read (see :func:`word_query`).
    """
    queries = [word_query(vendor, word) for word in words]
    if vendor == "sqlite":
        return (
            f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s",
            [" AND ".join(queries)],
        )
    conditions = []
    params = []
    for whole, parts in queries:
        conditions.append(
            "(words @@ to_tsquery('simple', %s) OR parts @@ to_tsquery('simple', %s))"
        )
        params += [whole, parts]
    return (
        f"SELECT group_id FROM {TABLE} WHERE {' AND '.join(conditions)}",
        params,
    )
