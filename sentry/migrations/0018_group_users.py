"""
Users affected: a row per group and user (a hash), and a count on the group.

Groups stored before this migration start at 0 and count the users of the
events that come after it: the users of stored occurrences are not looked
up (their data is compressed pickles, and retention has deleted the rest).

The per-group value counters' index gains ``-id`` after ``-times_seen``: the
top values of a key, ties newest first, are read in index order (the Tags
sidebar and tab), where ties had to be sorted. It replaces the old one, of
which it is an extension, so writes keep one index to update.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sentry", "0017_filtervalue_project"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="messagefiltervalue",
            index=models.Index(
                fields=["group", "key", "-times_seen", "-id"],
                name="sentry_mfv_group_key_times_id",
            ),
        ),
        migrations.RemoveIndex(
            model_name="messagefiltervalue",
            name="sentry_mfv_group_key_times",
        ),
        migrations.CreateModel(
            name="GroupUser",
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
                ("hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="groupedmessage",
            name="users",
            field=models.PositiveIntegerField(default=0, verbose_name="users affected"),
        ),
        migrations.AddIndex(
            model_name="groupedmessage",
            index=models.Index(
                fields=["status", "-users"], name="sentry_group_status_users"
            ),
        ),
        migrations.AddIndex(
            model_name="groupedmessage",
            index=models.Index(
                fields=["project", "status", "-users"], name="sentry_group_proj_users"
            ),
        ),
        migrations.AddField(
            model_name="groupuser",
            name="group",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                to="sentry.groupedmessage",
            ),
        ),
        migrations.AddConstraint(
            model_name="groupuser",
            constraint=models.UniqueConstraint(
                fields=("group", "hash"), name="sentry_groupuser_group_hash_uniq"
            ),
        ),
    ]
