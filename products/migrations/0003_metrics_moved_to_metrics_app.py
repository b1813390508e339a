"""Post-launch metrics moved to their own app (metrics/): its 0001 takes the
models into its state with their tables and copies each key result's metric
link into metrics.KeyResultLink; backlog.0004 points hypotheses at
metrics.Metric. Both run before this migration (their ``run_before``), which
then drops the models from products' state — the tables stay, no row is
touched — and the key result's link columns, now owned downstream."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0002_metrics"),
    ]

    operations = [
        migrations.RemoveField(model_name="keyresult", name="metric"),
        migrations.RemoveField(model_name="keyresult", name="metric_since"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Datapoint"),
                migrations.DeleteModel(name="DirtyDay"),
                migrations.DeleteModel(name="MetricRollup"),
                migrations.DeleteModel(name="Metric"),
            ],
            database_operations=[],
        ),
    ]
