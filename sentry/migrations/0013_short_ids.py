from django.db import migrations, models, router
from django.db.models import Count


def number_groups(apps, schema_editor):
    """Number each project's groups 1, 2, 3... in the order they were made."""
    alias = schema_editor.connection.alias
    Group = apps.get_model("sentry", "GroupedMessage")
    Project = apps.get_model("sentry", "Project")
    if not router.allow_migrate_model(alias, Group):
        return
    groups = Group.objects.using(alias)
    batch = []
    project_id, number = None, 0
    rows = groups.order_by("project_id", "id").values_list("id", "project_id")
    for group_id, group_project_id in rows.iterator(chunk_size=2000):
        if group_project_id != project_id:
            project_id, number = group_project_id, 0
        number += 1
        batch.append(Group(id=group_id, short_id=number))
        if len(batch) >= 1000:
            groups.bulk_update(batch, ["short_id"])
            batch = []
    groups.bulk_update(batch, ["short_id"])
    counts = groups.values("project_id").annotate(n=Count("id")).order_by()
    for row in counts:
        Project.objects.using(alias).filter(pk=row["project_id"]).update(
            last_short_id=row["n"]
        )


class Migration(migrations.Migration):
    """
    Every group gets a number in its project (``SHOP-12``); the project
    keeps the last one given. Existing groups are numbered by their id.
    """

    dependencies = [
        ("sentry", "0012_project_settings"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="last_short_id",
            field=models.PositiveIntegerField(
                default=0, editable=False, verbose_name="last short id"
            ),
        ),
        migrations.AddField(
            model_name="groupedmessage",
            name="short_id",
            field=models.PositiveIntegerField(
                editable=False, null=True, verbose_name="short id"
            ),
        ),
        migrations.RunPython(number_groups, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="groupedmessage",
            name="short_id",
            field=models.PositiveIntegerField(
                editable=False, verbose_name="short id"
            ),
        ),
        migrations.AddConstraint(
            model_name="groupedmessage",
            constraint=models.UniqueConstraint(
                fields=("project", "short_id"), name="sentry_group_project_short_id"
            ),
        ),
    ]
