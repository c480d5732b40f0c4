import django.db.models.deletion
from django.db import migrations, models, router
from django.db.models import Count


def refuse_merging_projects(apps, schema_editor):
    """
    Going back to one set of groups for all projects: refuse if two projects
    have a group of the same error, which one group would then have to be.
    """
    alias = schema_editor.connection.alias
    for model_name in ("GroupedMessage", "CompressionDictionary"):
        model = apps.get_model("sentry", model_name)
        if not router.allow_migrate_model(alias, model):
            continue
        clashes = (
            model.objects.using(alias)
            .values("logger", "view", "checksum")
            .annotate(projects=Count("id"))
            .filter(projects__gt=1)
        )
        if clashes.exists():
            raise RuntimeError(
                f"Cannot unapply: {clashes.count()} errors have a group in more "
                "than one project. Delete the groups of all projects but one "
                "(or the projects) first."
            )


class Migration(migrations.Migration):
    """
    Groups, client keys, queued events and compression dictionaries belong
    to a project; everything there is moves to the one it was filed under
    (project 1, or its key's DSN number). Groups are unique per project.
    """

    dependencies = [
        ("sentry", "0010_projects"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="groupedmessage",
            name="sentry_group_logger_view_checksum_uniq",
        ),
        migrations.AddField(
            model_name="groupedmessage",
            name="project",
            field=models.ForeignKey(
                default=1,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="groups",
                to="sentry.project",
                verbose_name="project",
            ),
        ),
        migrations.AddConstraint(
            model_name="groupedmessage",
            constraint=models.UniqueConstraint(
                fields=("project", "logger", "view", "checksum"),
                name="sentry_group_project_logger_view_checksum_uniq",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="compressiondictionary",
            name="sentry_dictionary_group_key",
        ),
        migrations.AddField(
            model_name="compressiondictionary",
            name="project_id",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddConstraint(
            model_name="compressiondictionary",
            constraint=models.UniqueConstraint(
                fields=("project_id", "logger", "view", "checksum"),
                name="sentry_dictionary_project_group_key",
            ),
        ),
        # The key's number becomes a foreign key to the project made for it
        # (0009): the column keeps its name and values, DSNs do not change.
        migrations.RenameField(
            model_name="projectkey", old_name="project_id", new_name="project"
        ),
        migrations.AlterField(
            model_name="projectkey",
            name="project",
            field=models.ForeignKey(
                default=1,
                help_text="Its id is the number at the end of the DSN.",
                on_delete=django.db.models.deletion.CASCADE,
                related_name="keys",
                to="sentry.project",
                verbose_name="project",
            ),
        ),
        migrations.AddField(
            model_name="queuedevent",
            name="project_id",
            field=models.PositiveIntegerField(
                blank=True, null=True, verbose_name="project id"
            ),
        ),
        # Unapplied first: checked before the old unique constraints return.
        migrations.RunPython(migrations.RunPython.noop, refuse_merging_projects),
    ]
