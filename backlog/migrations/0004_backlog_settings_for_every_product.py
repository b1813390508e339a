"""Every product gets the backlog settings and RICE scoring model that were
created on the first read of its backlog before: from now on they are made
with the product (``backlog.receivers``), and reads never write."""

from django.db import migrations


def create_missing_backlogs(apps, schema_editor):
    Product = apps.get_model("products", "Product")
    BacklogSettings = apps.get_model("backlog", "BacklogSettings")
    ScoringModel = apps.get_model("backlog", "ScoringModel")
    have = set(BacklogSettings.objects.values_list("product_id", flat=True))
    BacklogSettings.objects.bulk_create(
        BacklogSettings(product_id=pk)
        for pk in Product.objects.exclude(pk__in=have).values_list("pk", flat=True).iterator()
    )
    for settings_row in BacklogSettings.objects.filter(active_model__isnull=True).iterator():
        model, _ = ScoringModel.objects.get_or_create(
            product_id=settings_row.product_id, name="RICE", defaults={"kind": "rice"}
        )
        BacklogSettings.objects.filter(pk=settings_row.pk).update(active_model=model)


class Migration(migrations.Migration):
    dependencies = [
        ("backlog", "0003_scoringmodel_reach_from_demand"),
        ("products", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_missing_backlogs, migrations.RunPython.noop),
    ]
