import datetime as dt

import django.db.models.deletion
from django.db import migrations, models, router
from django.db.models import Sum
from django.db.models.functions import TruncHour

#: Hour rows written per INSERT while filling the table.
BATCH = 1000


def count_hours(apps, schema_editor):
    """Fill the hourly project counters from the groups' per-minute counters."""
    alias = schema_editor.connection.alias
    minutes = apps.get_model("sentry", "MessageCountByMinute")
    hours = apps.get_model("sentry", "ProjectCountByHour")
    if not router.allow_migrate_model(alias, hours):
        return
    rows = (
        minutes.objects.using(alias)
        .annotate(hour=TruncHour("date", tzinfo=dt.UTC))
        .values_list("group__project_id", "hour")
        .annotate(total=Sum("times_seen"))
        .order_by()
    )
    batch = []
    # Summed by the database: one row per project and hour comes back.
    for project_id, hour, total in rows.iterator(chunk_size=BATCH):
        batch.append(hours(project_id=project_id, date=hour, times_seen=total))
        if len(batch) >= BATCH:
            hours.objects.using(alias).bulk_create(batch)
            batch = []
    hours.objects.using(alias).bulk_create(batch)


class Migration(migrations.Migration):
    """
    Count each project's occurrences per hour (the projects page), starting
    from what the per-minute counters of its groups hold.
    """

    dependencies = [
        ("sentry", "0015_project_stream_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProjectCountByHour",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("date", models.DateTimeField()),
                ("times_seen", models.PositiveIntegerField(default=0)),
                (
                    "project",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="sentry.project",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["date"], name="sentry_pcbh_date")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("project", "date"), name="sentry_pcbh_project_date_uniq"
                    )
                ],
            },
        ),
        migrations.RunPython(count_hours, migrations.RunPython.noop, elidable=False),
    ]
