"""
Occurrence values: the tags and user of each occurrence beyond its columns.

A row links a group's value counter (``MessageFilterValue``) to an
occurrence that has the value, so that occurrences narrow by any key (see
``sentry.models.OccurrenceValue``). A trigger on the occurrence table
deletes an occurrence's rows with it. Occurrences stored before this
migration get theirs from ``manage.py sentry_fill_occurrences``.
"""

import django.db.models.deletion
from django.db import migrations, models

CREATE = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS sentry_occurrencevalue_forget AFTER DELETE ON "
        "sentry_message BEGIN DELETE FROM sentry_occurrencevalue "
        "WHERE message_id = OLD.id; END",
    ],
    "postgresql": [
        "CREATE FUNCTION sentry_occurrencevalue_forget() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "DELETE FROM sentry_occurrencevalue WHERE message_id IN (SELECT id FROM gone); "
        "RETURN NULL; END $$",
        "CREATE TRIGGER sentry_occurrencevalue_forget AFTER DELETE ON sentry_message "
        "REFERENCING OLD TABLE AS gone FOR EACH STATEMENT "
        "EXECUTE FUNCTION sentry_occurrencevalue_forget()",
        # A TRUNCATE fires no DELETE trigger: the links go with it too. By
        # DELETE: Django's flush truncates both tables in one statement, in
        # which a TRUNCATE of the links is refused.
        "CREATE FUNCTION sentry_occurrencevalue_truncate() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN DELETE FROM sentry_occurrencevalue; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER sentry_occurrencevalue_truncate AFTER TRUNCATE "
        "ON sentry_message FOR EACH STATEMENT "
        "EXECUTE FUNCTION sentry_occurrencevalue_truncate()",
    ],
}
DROP = {
    "sqlite": ["DROP TRIGGER IF EXISTS sentry_occurrencevalue_forget"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS sentry_occurrencevalue_truncate ON sentry_message",
        "DROP TRIGGER IF EXISTS sentry_occurrencevalue_forget ON sentry_message",
        "DROP FUNCTION IF EXISTS sentry_occurrencevalue_truncate()",
        "DROP FUNCTION IF EXISTS sentry_occurrencevalue_forget()",
    ],
}


def _run(statements, schema_editor):
    for statement in statements.get(schema_editor.connection.vendor, ()):
        schema_editor.execute(statement, params=None)


def create(apps, schema_editor):
    _run(CREATE, schema_editor)


def drop(apps, schema_editor):
    _run(DROP, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("sentry", "0027_alert_rule_limits"),
    ]

    operations = [
        migrations.CreateModel(
            name="OccurrenceValue",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "message",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="sentry.message",
                    ),
                ),
                (
                    "value",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="sentry.messagefiltervalue",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("message", "value"),
                        name="sentry_occval_message_value_uniq",
                    )
                ],
                "indexes": [
                    models.Index(
                        fields=["value", "message"], name="sentry_occval_value_msg"
                    )
                ],
            },
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
