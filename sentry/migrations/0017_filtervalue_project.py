import django.db.models.deletion
from django.db import migrations, models, router
from django.db.models import Exists, OuterRef

#: The site's own project, which every value belongs to when the column comes.
DEFAULT_PROJECT_ID = 1


def spread_over_projects(apps, schema_editor):
    """
    Give each value the projects whose groups were seen with it.

    The new column puts every value in project 1. A value seen by groups of
    other projects gets a row in each of them (in the order the values came,
    so the stream still suggests the newest first), and leaves project 1
    unless a group of project 1 was seen with it too. A value no group was
    seen with stays in project 1 (``cleanup_sentry`` deletes it).
    """
    alias = schema_editor.connection.alias
    values = apps.get_model("sentry", "FilterValue")
    seen = apps.get_model("sentry", "MessageFilterValue")
    groups = apps.get_model("sentry", "GroupedMessage")
    if not router.allow_migrate_model(alias, values):
        return
    quote = schema_editor.connection.ops.quote_name
    # One statement, done by the database however many values there are:
    # a row in every other project that saw the value, in the order the
    # values came.
    schema_editor.execute(
        f"INSERT INTO {quote(values._meta.db_table)} (project_id, {quote('key')}, "
        f"{quote('value')}) "
        f"SELECT seen.project_id, fv.{quote('key')}, fv.{quote('value')} "
        f"FROM {quote(values._meta.db_table)} fv "
        f"INNER JOIN (SELECT DISTINCT m.{quote('key')}, m.{quote('value')}, "
        f"g.project_id FROM {quote(seen._meta.db_table)} m "
        f"INNER JOIN {quote(groups._meta.db_table)} g ON g.id = m.group_id "
        "WHERE g.project_id <> %s) seen "
        f"ON seen.{quote('key')} = fv.{quote('key')} "
        f"AND seen.{quote('value')} = fv.{quote('value')} "
        "ORDER BY fv.id, seen.project_id",
        [DEFAULT_PROJECT_ID],
    )
    seen = seen.objects.using(alias)
    in_project_one = seen.filter(
        key=OuterRef("key"),
        value=OuterRef("value"),
        group__project_id=DEFAULT_PROJECT_ID,
    )
    values.objects.using(alias).filter(
        Exists(seen.filter(key=OuterRef("key"), value=OuterRef("value"))),
        ~Exists(in_project_one),
        project_id=DEFAULT_PROJECT_ID,
    ).delete()


def collapse_projects(apps, schema_editor):
    """Keep one row of each ``(key, value)``: the first one stored."""
    alias = schema_editor.connection.alias
    values = apps.get_model("sentry", "FilterValue")
    if not router.allow_migrate_model(alias, values):
        return
    values = values.objects.using(alias)
    earlier = values.filter(
        key=OuterRef("key"), value=OuterRef("value"), pk__lt=OuterRef("pk")
    )
    values.filter(Exists(earlier)).delete()


class Migration(migrations.Migration):
    """
    Values (server names, sites, loggers, levels) per project: the stream's
    filters offer a user only those of the projects they may see.
    """

    dependencies = [
        ("sentry", "0016_project_hourly_counts"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="filtervalue",
            name="sentry_filtervalue_uniq",
        ),
        migrations.AddField(
            model_name="filtervalue",
            name="project",
            field=models.ForeignKey(
                default=DEFAULT_PROJECT_ID,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="sentry.project",
                verbose_name="project",
                db_index=False,
            ),
        ),
        migrations.RunPython(spread_over_projects, collapse_projects, elidable=False),
        migrations.AddConstraint(
            model_name="filtervalue",
            constraint=models.UniqueConstraint(
                fields=("project", "key", "value"),
                name="sentry_filtervalue_project_key_value_uniq",
            ),
        ),
        migrations.AddIndex(
            model_name="filtervalue",
            index=models.Index(fields=["key", "-id"], name="sentry_filtervalue_key_id"),
        ),
    ]
