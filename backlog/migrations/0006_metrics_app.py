"""Hypotheses name a metrics.Metric (the model moved from products/ to the
metrics app; its table is the same, so only the state changes here), and the
launch markers of metric charts, which metrics/ now stores, are filled for
the items shipped so far (as launch_reviews.sync_launch_markers writes them)."""

from datetime import UTC

import django.db.models.deletion
from django.db import migrations, models


def launch_markers(apps, schema_editor):
    Hypothesis = apps.get_model("backlog", "Hypothesis")
    ChartMarker = apps.get_model("metrics", "ChartMarker")
    hypotheses = Hypothesis.objects.filter(
        item__status="shipped", item__shipped_at__isnull=False
    ).select_related("item__product__workspace")
    rows = []
    for h in hypotheses.iterator():
        item = h.item
        # The launch review page's path when this migration was written.
        url = (
            f"/w/{item.product.workspace.slug}/p/{item.product.key}/backlog/items/"
            f"{item.number}/launch/"
        )
        day = item.shipped_at.astimezone(UTC).date()
        for metric_id in sorted({h.metric_id, h.adoption_metric_id} - {None}):
            rows.append(
                ChartMarker(
                    metric_id=metric_id,
                    source=f"item:{item.pk}",
                    day=day,
                    label=f"{item.key} {item.title}"[:300],
                    url=url,
                )
            )
    ChartMarker.objects.bulk_create(rows, batch_size=1000)


def drop_launch_markers(apps, schema_editor):
    apps.get_model("metrics", "ChartMarker").objects.filter(source__startswith="item:").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("backlog", "0005_keyset_indexes_for_every_sort"),
        ("metrics", "0001_initial"),
    ]
    run_before = [
        ("products", "0003_metrics_moved_to_metrics_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="hypothesis",
                    name="metric",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="hypotheses",
                        to="metrics.metric",
                    ),
                ),
                migrations.AlterField(
                    model_name="hypothesis",
                    name="adoption_metric",
                    field=models.ForeignKey(
                        blank=True,
                        help_text="Optional: usage of the feature itself",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="adoption_of",
                        to="metrics.metric",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(launch_markers, drop_launch_markers),
    ]
