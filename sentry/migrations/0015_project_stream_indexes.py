from django.db import migrations, models


class Migration(migrations.Migration):
    """Index one project's stream in each of its sorts (?project=<slug>)."""

    dependencies = [
        ("sentry", "0014_project_members"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="groupedmessage",
            index=models.Index(
                fields=["project", "status", "-score"], name="sentry_group_proj_score"
            ),
        ),
        migrations.AddIndex(
            model_name="groupedmessage",
            index=models.Index(
                fields=["project", "status", "-last_seen"],
                name="sentry_group_proj_seen",
            ),
        ),
        migrations.AddIndex(
            model_name="groupedmessage",
            index=models.Index(
                fields=["project", "status", "-first_seen"],
                name="sentry_group_proj_first",
            ),
        ),
        migrations.AddIndex(
            model_name="groupedmessage",
            index=models.Index(
                fields=["project", "status", "-times_seen"],
                name="sentry_group_proj_times",
            ),
        ),
    ]
