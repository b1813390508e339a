"""The metrics app takes over the metric tables from products/ (they were
created by products.0002_metrics) without touching their rows: the models
enter this app's state with the tables they have (``db_table``), products
drops them from its state in products.0003, and 0002 here renames the tables
to this app's names.

New here: ``KeyResultLink`` (the metric a key result follows, which was
products.KeyResult.metric / metric_since: copied below before products.0003
drops those columns) and ``ChartMarker`` (filled for existing launches by
backlog.0004).
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def copy_key_result_links(apps, schema_editor):
    KeyResult = apps.get_model("products", "KeyResult")
    KeyResultLink = apps.get_model("metrics", "KeyResultLink")
    rows = (
        KeyResult.objects.filter(models.Q(metric__isnull=False) | models.Q(metric_since__isnull=False))
        .values_list("pk", "metric_id", "metric_since")
        .order_by("pk")
    )
    KeyResultLink.objects.bulk_create(
        [KeyResultLink(key_result_id=pk, metric_id=m, since=s) for pk, m, s in rows.iterator()],
        batch_size=1000,
    )


def restore_key_result_links(apps, schema_editor):
    KeyResult = apps.get_model("products", "KeyResult")
    KeyResultLink = apps.get_model("metrics", "KeyResultLink")
    for link in KeyResultLink.objects.all().iterator():
        KeyResult.objects.filter(pk=link.key_result_id).update(
            metric_id=link.metric_id, metric_since=link.since
        )


METRIC_TABLES = [
    migrations.CreateModel(
        name="Metric",
        fields=[
            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            ("version", models.PositiveIntegerField(default=1, editable=False)),
            ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
            ("updated_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False)),
            ("name", models.CharField(max_length=120)),
            ("unit", models.CharField(blank=True, help_text="e.g. %, users, ms, €", max_length=30)),
            ("aggregation", models.CharField(choices=[("sum", "Sum"), ("count", "Count"), ("average", "Average"), ("last", "Last value")], default="sum", help_text="How datapoints combine into a period's value", max_length=10)),
            ("direction", models.CharField(choices=[("increase", "Increase"), ("decrease", "Decrease")], default="increase", help_text="Which way is good", max_length=10, verbose_name="good direction")),
            ("description", models.TextField(blank=True, help_text="Markdown")),
            ("target", models.FloatField(blank=True, help_text="Drawn as a target line", null=True)),
            ("product", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="metrics", to="products.product")),
        ],
        options={
            "db_table": "products_metric",
            "ordering": ["name", "id"],
            "constraints": [
                models.UniqueConstraint(fields=("product", "name"), name="metric_name_unique"),
                models.CheckConstraint(condition=models.Q(("aggregation__in", ["sum", "count", "average", "last"])), name="metric_aggregation_valid"),
                models.CheckConstraint(condition=models.Q(("direction__in", ["increase", "decrease"])), name="metric_direction_valid"),
            ],
        },
    ),
    migrations.CreateModel(
        name="Datapoint",
        fields=[
            ("id", models.BigAutoField(primary_key=True, serialize=False)),
            ("timestamp", models.DateTimeField()),
            ("value", models.FloatField()),
            ("dedupe_key", models.CharField(blank=True, default="", max_length=100)),
            ("metric", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="datapoints", to="metrics.metric")),
        ],
        options={
            "db_table": "products_datapoint",
            "constraints": [
                models.UniqueConstraint(fields=("metric", "timestamp", "value", "dedupe_key"), name="datapoint_identity_unique"),
                models.UniqueConstraint(condition=models.Q(("dedupe_key", ""), _negated=True), fields=("metric", "dedupe_key"), name="datapoint_dedupe_key_unique"),
            ],
        },
    ),
    migrations.CreateModel(
        name="MetricRollup",
        fields=[
            ("id", models.BigAutoField(primary_key=True, serialize=False)),
            ("period", models.CharField(choices=[("day", "Day"), ("week", "Week"), ("month", "Month")], max_length=5)),
            ("start", models.DateField(help_text="First UTC day of the period")),
            ("total", models.FloatField(help_text="Sum of values")),
            ("count", models.PositiveBigIntegerField()),
            ("minimum", models.FloatField()),
            ("maximum", models.FloatField()),
            ("last", models.FloatField(help_text="Value at the latest timestamp (ties: the largest value)")),
            ("last_at", models.DateTimeField()),
            ("metric", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="rollups", to="metrics.metric")),
        ],
        options={
            "db_table": "products_metricrollup",
            "ordering": ["metric", "period", "start"],
            "constraints": [
                models.UniqueConstraint(fields=("metric", "period", "start"), name="metric_rollup_unique"),
                models.CheckConstraint(condition=models.Q(("period__in", ["day", "week", "month"])), name="metric_rollup_period_valid"),
            ],
        },
    ),
    migrations.CreateModel(
        name="DirtyDay",
        fields=[
            ("id", models.BigAutoField(primary_key=True, serialize=False)),
            ("day", models.DateField()),
            ("marked_at", models.DateTimeField(default=django.utils.timezone.now)),
            ("metric", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="metrics.metric")),
        ],
        options={
            "db_table": "products_dirtyday",
            "constraints": [models.UniqueConstraint(fields=("metric", "day"), name="dirty_day_unique")],
        },
    ),
]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("products", "0002_metrics"),
    ]
    # products.0003 drops products' metric models and KeyResult.metric /
    # metric_since: the state and the links must be here first.
    run_before = [
        ("products", "0003_metrics_moved_to_metrics_app"),
    ]

    operations = [
        # The tables exist (products.0002): only the state moves.
        migrations.SeparateDatabaseAndState(state_operations=METRIC_TABLES, database_operations=[]),
        migrations.CreateModel(
            name="KeyResultLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("since", models.DateField(blank=True, help_text="Start of the key result's period (UTC day); empty means all data", null=True)),
                ("key_result", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="metric_link", to="products.keyresult")),
                ("metric", models.ForeignKey(blank=True, help_text="Current value follows this metric after each rollup", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="key_result_links", to="metrics.metric")),
            ],
        ),
        migrations.CreateModel(
            name="ChartMarker",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("source", models.CharField(max_length=100)),
                ("day", models.DateField(help_text="UTC day the marker stands on")),
                ("label", models.CharField(max_length=300)),
                ("url", models.CharField(blank=True, max_length=500)),
                ("metric", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="markers", to="metrics.metric")),
            ],
            options={
                "ordering": ["metric", "day", "id"],
                "indexes": [models.Index(fields=["source"], name="chart_marker_source")],
                "constraints": [models.UniqueConstraint(fields=("metric", "source"), name="chart_marker_unique")],
            },
        ),
        migrations.RunPython(copy_key_result_links, restore_key_result_links),
    ]
