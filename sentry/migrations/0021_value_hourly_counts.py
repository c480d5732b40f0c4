"""
Hourly counts per group and value of a few keys: sparklines of a filtered stream.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sentry', '0020_workflow'),
    ]

    operations = [
        migrations.CreateModel(
            name='ValueCountByHour',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=32)),
                ('value', models.CharField(max_length=200)),
                ('date', models.DateTimeField()),
                ('times_seen', models.PositiveIntegerField(default=0)),
                ('group', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to='sentry.groupedmessage')),
            ],
            options={
                'indexes': [models.Index(fields=['date'], name='sentry_vcbh_date')],
                'constraints': [models.UniqueConstraint(fields=('group', 'key', 'value', 'date'), name='sentry_vcbh_group_value_date_uniq')],
            },
        ),
    ]
