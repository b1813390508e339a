"""The write of a CSV import of backlog items: every row was checked before
(``backlog.importing``), so all of them are inserted at once."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from fractional_indexing import generate_n_keys_between

from pmhub import activity

from ..models import BacklogSettings, ImportJob, Item, ScoreChange, Status
from .items import _tags_for
from .recompute import _rescore_range


@transaction.atomic
def create_imported_items(*, job: ImportJob, rows: list[dict]) -> list[Item]:
    """Append checked CSV rows to the job's backlog: numbered keys and ranks
    after the last item, bulk inserts, tags, one SQL rescore of the new id
    range and one history row per item. Runs inside the import's transaction
    (``pmhub.csvimport.Importer.import_rows``), so a failure writes nothing."""
    product = job.product
    actor = job.created_by
    settings_row = BacklogSettings.objects.select_for_update().get(product=product)
    first = settings_row.last_item_number + 1
    last_rank = Item.objects.filter(product=product).aggregate(m=Max("rank"))["m"]
    ranks = generate_n_keys_between(last_rank, None, len(rows))
    items, tag_rows = [], []
    for i, (values, rank) in enumerate(zip(rows, ranks, strict=True)):
        tags = values.pop("_tags", [])
        number = first + i
        item = Item(
            product=product, number=number, key=f"{product.key}-{number}", rank=rank, **values
        )
        if item.status == Status.SHIPPED:
            item.shipped_at = timezone.now()
        items.append(item)
        tag_rows.append(tags)
    created = Item.objects.bulk_create(items, batch_size=2000)
    BacklogSettings.objects.filter(pk=settings_row.pk).update(
        last_item_number=first + len(rows) - 1
    )
    all_tags = {t for tags in tag_rows for t in tags}
    if all_tags:
        tag_objs = {t.name: t for t in _tags_for(product, all_tags)}
        through = Item.tags.through
        through.objects.bulk_create(
            [
                through(item_id=item.pk, tag_id=tag_objs[t.strip().lower()[:40]].pk)
                for item, tags in zip(created, tag_rows, strict=True)
                for t in set(tags)
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
    model = settings_row.active_model
    if model is not None and created:
        _rescore_range(
            product.pk,
            model,
            created[0].pk,
            created[-1].pk + 1,
            cause=ScoreChange.Cause.CREATED,
            detail=f"Imported from {job.filename}",
            actor_id=actor.pk if actor else None,
        )
    activity.record_many(
        (
            {
                "workspace": product.workspace_id,
                "verb": "item.created",
                "obj": item,
                "changes": {"status": [None, item.status]},
            }
            for item in created
        ),
        actor=actor,
    )
    return created
