# The "Shared roadmap" source of questions from stakeholders (questions/): its choice and the check constraint that lists the sources.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0002_item_search_index'),
        ('products', '0003_metrics_moved_to_metrics_app'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='feedback',
            name='feedback_source_valid',
        ),
        migrations.AlterField(
            model_name='feedback',
            name='source',
            field=models.CharField(choices=[('portal', 'Portal'), ('email', 'Email'), ('support', 'Support'), ('sales_call', 'Sales call'), ('interview', 'Interview'), ('survey', 'Survey'), ('api', 'API'), ('import', 'Import'), ('roadmap', 'Shared roadmap')], default='email', max_length=12),
        ),
        migrations.AddConstraint(
            model_name='feedback',
            constraint=models.CheckConstraint(condition=models.Q(('source__in', ['portal', 'email', 'support', 'sales_call', 'interview', 'survey', 'api', 'import', 'roadmap'])), name='feedback_source_valid'),
        ),
    ]
