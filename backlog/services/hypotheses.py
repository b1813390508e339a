"""Writes of hypotheses and learnings (what an item should move after
launch, and what the launch taught): permission check, validation, version
check. The launch reviews that judge them are reads (``backlog.launch_reviews``).
Every write that ships, un-ships, renames or deletes an item, or changes its
hypothesis, hands the item's launch markers to metrics/ (``sync_launch_markers``)."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from metrics import services as metrics
from pmhub import activity
from pmhub.accounts.services import require_editor
from pmhub.errors import VersionConflict
from pmhub.versioning import save_versioned

from .. import launch_reviews
from ..models import Hypothesis, Item

HYPOTHESIS_FIELDS = ("metric", "expected_change", "window_days", "adoption_metric")


def sync_launch_markers(item_ids) -> None:
    """Hand the launch markers of these items to metrics/ (its charts mark
    the launch of every shipped item whose hypothesis names the metric):
    call after any write that ships or un-ships an item, renames it, deletes
    it, or changes its hypothesis. In the caller's transaction; a constant
    number of queries however many items."""
    item_ids = list(item_ids)
    if not item_ids:
        return
    hypotheses = (
        Hypothesis.objects.filter(item_id__in=item_ids)
        .select_related("item__product__workspace")
        .only(
            "item_id",
            "metric_id",
            "adoption_metric_id",
            "item__number",
            "item__key",
            "item__title",
            "item__status",
            "item__shipped_at",
            "item__product__key",
            "item__product__workspace__slug",
        )
    )
    markers: dict[str, list[metrics.NewMarker]] = {f"item:{pk}": [] for pk in item_ids}
    for h in hypotheses:
        item, day = h.item, launch_reviews.launch_day(h.item)
        if day is None:
            continue
        url = reverse(
            "backlog:launch-review",
            args=[item.product.workspace.slug, item.product.key, item.number],
        )
        for metric_id in sorted({h.metric_id, h.adoption_metric_id} - {None}):
            markers[f"item:{item.pk}"].append(
                metrics.NewMarker(metric_id, day, f"{item.key} {item.title}", url)
            )
    metrics.replace_markers(markers)


def _check_metrics(item: Item, fields: dict) -> None:
    for name in ("metric", "adoption_metric"):
        metric = fields.get(name)
        if metric is not None and metric.product_id != item.product_id:
            raise ValidationError({name: "Pick a metric of this item's product."})
    if "metric" in fields and fields["metric"] is None:
        raise ValidationError({"metric": "A hypothesis names the metric it should move."})


def _check_fields(item: Item, fields: dict) -> None:
    _check_metrics(item, fields)
    if fields.get("expected_change") == 0:
        raise ValidationError(
            {"expected_change": "Expect some change: a hypothesis of 0 % cannot be judged."}
        )


def _learnings_fields(actor, learnings) -> dict:
    return {
        "learnings": (learnings or "").strip(),
        "learnings_by": actor,
        "learnings_at": timezone.now(),
    }


@transaction.atomic
def create_hypothesis(actor, *, item: Item, learnings: str = "", **fields) -> Hypothesis:
    """Give an item its hypothesis (the API's create). An item has at most
    one: a second is refused with an ``item`` message (change the existing
    one instead), never silently merged into it."""
    require_editor(actor, item.product.workspace)
    unknown = set(fields) - set(HYPOTHESIS_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be set here."))
    if "metric" not in fields:
        raise ValidationError({"metric": "A hypothesis names the metric it should move."})
    _check_fields(item, fields)
    taken = "This item already has a hypothesis; change that one instead."
    if Hypothesis.objects.filter(item=item).exists():
        raise ValidationError({"item": taken})
    extra = _learnings_fields(actor, learnings) if (learnings or "").strip() else {}
    hypothesis = _insert(item, {**fields, **extra})
    if hypothesis is None:  # created concurrently
        raise ValidationError({"item": taken})
    _record(actor, "created", hypothesis, item)
    sync_launch_markers([item.pk])
    return hypothesis


def _record(actor, verb: str, hypothesis: Hypothesis, item: Item, changes=None) -> None:
    """A hypothesis's event names its item (key, title, product)."""
    activity.record(
        item.product.workspace_id,
        f"hypothesis.{verb}",
        hypothesis,
        changes=changes,
        object_key=item.key,
        object_title=item.title,
        product=item.product_id,
        actor=actor,
    )


def _insert(item: Item, fields: dict) -> Hypothesis | None:
    """Validate and insert the item's hypothesis; None when another request
    gave the item its hypothesis first."""
    hypothesis = Hypothesis(item=item, **fields)
    hypothesis.full_clean()
    try:
        with transaction.atomic():
            hypothesis.save()
    except IntegrityError:
        return None
    return hypothesis


@transaction.atomic
def update_hypothesis(
    actor, *, hypothesis: Hypothesis, expected_version: int | None, fields: dict
) -> Hypothesis:
    """Change a hypothesis and/or its learnings in one versioned write (the
    API's partial update): a stale ``expected_version`` is a VersionConflict
    and changes nothing. Learnings record who wrote them and when, as the
    HTML form does."""
    item = hypothesis.item
    require_editor(actor, item.product.workspace)
    unknown = set(fields) - {*HYPOTHESIS_FIELDS, "learnings"}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    _check_fields(item, fields)
    fields = dict(fields)
    if "learnings" in fields:
        fields.update(_learnings_fields(actor, fields.pop("learnings")))
    before = activity.values_of(hypothesis, fields)
    saved = save_versioned(hypothesis, expected_version=expected_version, fields=fields)
    changes = activity.diff(before, activity.values_of(saved, fields))
    _record(actor, "updated", saved, item, changes)
    sync_launch_markers([item.pk])
    return saved


@transaction.atomic
def save_hypothesis(actor, *, item: Item, expected_version: int | None, fields: dict) -> Hypothesis:
    """Create the item's hypothesis, or update it (``update_hypothesis``) if it
    is still at ``expected_version`` (VersionConflict otherwise)."""
    existing = Hypothesis.objects.filter(item=item).first()
    if existing is not None:
        existing.item = item
        return update_hypothesis(
            actor, hypothesis=existing, expected_version=expected_version, fields=fields
        )
    require_editor(actor, item.product.workspace)
    unknown = set(fields) - set(HYPOTHESIS_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    _check_fields(item, fields)
    if expected_version not in (None, 0):
        raise VersionConflict(current=None)
    hypothesis = _insert(item, fields)
    if hypothesis is None:
        raise VersionConflict(current=Hypothesis.objects.filter(item=item).first())
    _record(actor, "created", hypothesis, item)
    sync_launch_markers([item.pk])
    return hypothesis


@transaction.atomic
def save_learnings(
    actor, *, hypothesis: Hypothesis, expected_version: int | None, learnings: str
) -> Hypothesis:
    """Record what the launch taught; a stale version is a VersionConflict
    (the other writer's text is never overwritten silently)."""
    return update_hypothesis(
        actor,
        hypothesis=hypothesis,
        expected_version=expected_version,
        fields={"learnings": learnings},
    )


@transaction.atomic
def delete_hypothesis(actor, *, hypothesis: Hypothesis, expected_version: int | None) -> None:
    require_editor(actor, hypothesis.item.product.workspace)
    qs = Hypothesis.objects.filter(pk=hypothesis.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    if not qs.delete()[0]:
        raise VersionConflict(current=Hypothesis.objects.filter(pk=hypothesis.pk).first())
    _record(actor, "deleted", hypothesis, hypothesis.item)
    sync_launch_markers([hypothesis.item_id])
