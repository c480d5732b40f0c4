"""
An occurrence's release, environment and user as columns of its row.

The occurrences tab lists them and its search narrows by release and
environment; until now they were only inside the packed data. Rows stored
before this migration keep them there only (NULL here): their page shows
them, the list and the search do not (docs/dashboard.rst).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sentry', '0024_releases'),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='environment',
            field=models.CharField(blank=True, max_length=200, null=True, verbose_name='environment'),
        ),
        migrations.AddField(
            model_name='message',
            name='release',
            field=models.CharField(blank=True, max_length=200, null=True, verbose_name='release'),
        ),
        migrations.AddField(
            model_name='message',
            name='user',
            field=models.CharField(blank=True, max_length=200, null=True, verbose_name='user'),
        ),
    ]
