"""
Workflow: muting on the group, and a history table (changes and comments).

A group's mute is four columns on its row (the flag and its three
conditions), so that the default stream (unresolved, not muted) keeps its
status indexes; a partial index on the muted rows serves ``is:muted``.
Groups stored before this migration start unmuted, with an empty history.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sentry', '0019_search_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='GroupActivity',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('first_seen', 'first seen'), ('resolved', 'resolved'), ('unresolved', 'unresolved'), ('regressed', 'regressed'), ('muted', 'muted'), ('unmuted', 'unmuted'), ('comment', 'comment')], max_length=16, verbose_name='kind')),
                ('date', models.DateTimeField(default=django.utils.timezone.now, verbose_name='date')),
                ('release', models.CharField(blank=True, max_length=200, null=True, verbose_name='release')),
                ('text', models.TextField(blank=True, default='', verbose_name='text')),
                ('data', models.JSONField(blank=True, null=True, verbose_name='data')),
                ('message_id', models.CharField(blank=True, max_length=32, null=True)),
                ('edited', models.DateTimeField(blank=True, null=True, verbose_name='edited')),
            ],
            options={
                'verbose_name': 'group activity',
                'verbose_name_plural': 'group activity',
                'ordering': ('-date', '-id'),
            },
        ),
        migrations.AddField(
            model_name='groupedmessage',
            name='muted',
            field=models.BooleanField(default=False, verbose_name='muted'),
        ),
        migrations.AddField(
            model_name='groupedmessage',
            name='muted_until',
            field=models.DateTimeField(blank=True, null=True, verbose_name='muted until'),
        ),
        migrations.AddField(
            model_name='groupedmessage',
            name='muted_until_times_seen',
            field=models.PositiveBigIntegerField(blank=True, null=True, verbose_name='muted until seen'),
        ),
        migrations.AddField(
            model_name='groupedmessage',
            name='muted_until_users',
            field=models.PositiveBigIntegerField(blank=True, null=True, verbose_name='muted until users'),
        ),
        migrations.AddIndex(
            model_name='groupedmessage',
            index=models.Index(condition=models.Q(('muted', True)), fields=['-last_seen'], name='sentry_group_muted_seen'),
        ),
        migrations.AddField(
            model_name='groupactivity',
            name='group',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='activity', to='sentry.groupedmessage'),
        ),
        migrations.AddField(
            model_name='groupactivity',
            name='user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='groupactivity',
            index=models.Index(fields=['group', '-date', '-id'], name='sentry_activity_group_date'),
        ),
    ]
