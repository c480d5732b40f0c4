"""
The full-text index of groups' text, for free words (see sentry.search.index).

SQLite: an FTS5 table whose rowid is the group's id. PostgreSQL: a table of
two tsvectors per group with a GIN index each. A trigger on the group table
deletes a group's row with it, whatever deletes the group (and, on
PostgreSQL, empties the index when the group table is truncated). Other
databases get nothing: their free words stay a scan.

Existing groups are indexed here, in batches of ids; going back drops the
table and its triggers.
"""

from django.db import migrations

SQLITE_CREATE = [
    # unicode61: the words are cut in Python already (letters and digits);
    # the tokenizer folds case and diacritics, the same for the query.
    "CREATE VIRTUAL TABLE sentry_groupsearch USING fts5(words, parts, "
    "tokenize = 'unicode61')",
    "CREATE TRIGGER sentry_groupsearch_forget AFTER DELETE ON sentry_groupedmessage "
    "BEGIN DELETE FROM sentry_groupsearch WHERE rowid = OLD.id; END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS sentry_groupsearch_forget",
    "DROP TABLE IF EXISTS sentry_groupsearch",
]
POSTGRESQL_CREATE = [
    "CREATE TABLE sentry_groupsearch (group_id bigint PRIMARY KEY, "
    "words tsvector NOT NULL, parts tsvector NOT NULL)",
    "CREATE INDEX sentry_groupsearch_words ON sentry_groupsearch USING gin (words)",
    "CREATE INDEX sentry_groupsearch_parts ON sentry_groupsearch USING gin (parts)",
    # A trigger, not a foreign key: Django empties tables (tests, flush) with
    # TRUNCATE of its own tables only, which a foreign key would refuse.
    "CREATE FUNCTION sentry_groupsearch_forget() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "DELETE FROM sentry_groupsearch WHERE group_id IN (SELECT id FROM gone); "
    "RETURN NULL; END $$",
    "CREATE TRIGGER sentry_groupsearch_forget AFTER DELETE ON sentry_groupedmessage "
    "REFERENCING OLD TABLE AS gone FOR EACH STATEMENT "
    "EXECUTE FUNCTION sentry_groupsearch_forget()",
    "CREATE FUNCTION sentry_groupsearch_truncate() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN TRUNCATE sentry_groupsearch; RETURN NULL; END $$",
    "CREATE TRIGGER sentry_groupsearch_truncate AFTER TRUNCATE "
    "ON sentry_groupedmessage FOR EACH STATEMENT "
    "EXECUTE FUNCTION sentry_groupsearch_truncate()",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS sentry_groupsearch_truncate ON sentry_groupedmessage",
    "DROP TRIGGER IF EXISTS sentry_groupsearch_forget ON sentry_groupedmessage",
    "DROP FUNCTION IF EXISTS sentry_groupsearch_truncate()",
    "DROP FUNCTION IF EXISTS sentry_groupsearch_forget()",
    "DROP TABLE IF EXISTS sentry_groupsearch",
]
CREATE = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}
DROP = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}
BATCH = 500


def _run(statements, schema_editor):
    for statement in statements.get(schema_editor.connection.vendor, ()):
        schema_editor.execute(statement, params=None)


def create(apps, schema_editor):
    _run(CREATE, schema_editor)
    from sentry.search.index import index_groups

    using = schema_editor.connection.alias
    groups = apps.get_model("sentry", "GroupedMessage").objects.using(using)
    if schema_editor.connection.vendor not in CREATE:
        return
    last = 0
    while True:
        rows = list(
            groups.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "message", "class_name", "view", "traceback")[:BATCH]
        )
        if not rows:
            break
        index_groups(using, rows)
        last = rows[-1][0]


def drop(apps, schema_editor):
    _run(DROP, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("sentry", "0018_group_users"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
