"""
Saved alert rules get the settings' rate limit ("every") and flood limit.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sentry', '0026_alert_firing'),
    ]

    operations = [
        migrations.AddField(
            model_name='alertrule',
            name='every',
            field=models.PositiveIntegerField(blank=True, default=0, help_text='0: no limit.', verbose_name='at most once every (minutes)'),
        ),
        migrations.AddField(
            model_name='alertrule',
            name='flood_limit',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='summary after (messages a minute)'),
        ),
    ]
