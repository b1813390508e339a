"""The ``notifications`` consumer starts at the end of the event log: a site
that upgrades must not notify everyone of its whole history."""

from django.db import migrations


def start_at_the_end(apps, schema_editor):
    Event = apps.get_model("activity", "Event")
    ConsumerCursor = apps.get_model("activity", "ConsumerCursor")
    if schema_editor.connection.vendor == "postgresql":
        last = Event.objects.exclude(txid=None).order_by("-txid", "-id").first()
        position = (last.txid, last.id) if last else (0, 0)
    else:
        last = Event.objects.order_by("-id").first()
        position = (0, last.id) if last else (0, 0)
    ConsumerCursor.objects.get_or_create(
        name="notifications", defaults={"last_txid": position[0], "last_id": position[1]}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("discussions", "0001_initial"),
        ("activity", "0003_workspace_index_in_composites"),
    ]

    operations = [migrations.RunPython(start_at_the_end, migrations.RunPython.noop)]
