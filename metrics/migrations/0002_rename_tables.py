"""The metric tables take this app's names (products_metric → metrics_metric,
…). Rows, constraints and the foreign keys pointing at them stay: PostgreSQL
and SQLite (3.26+, as Django requires) rename references with the table."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0001_initial"),
        ("products", "0003_metrics_moved_to_metrics_app"),
    ]

    operations = [
        migrations.AlterModelTable(name="metric", table=None),
        migrations.AlterModelTable(name="datapoint", table=None),
        migrations.AlterModelTable(name="metricrollup", table=None),
        migrations.AlterModelTable(name="dirtyday", table=None),
    ]
