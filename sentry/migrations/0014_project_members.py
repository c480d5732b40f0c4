from django.db import migrations, models


class Migration(migrations.Migration):
    """
    A project may be restricted to members of chosen auth groups. No row is
    added: every project stays visible to all staff until groups are chosen.
    """

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("sentry", "0013_short_ids"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="member_groups",
            field=models.ManyToManyField(
                blank=True,
                help_text=(
                    "Leave empty to show the project to everyone who may read "
                    "the dashboard. Otherwise only members of these groups (and "
                    "superusers) see its errors, feeds, API results and keys."
                ),
                related_name="sentry_projects",
                to="auth.group",
                verbose_name="member groups",
            ),
        ),
    ]
