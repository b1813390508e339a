"""The change log and what the shared page's ETag sees: every write that
changes what a roadmap shows calls ``touch_roadmap``; moves, additions and
removals are logged with ``log_change``; shipped items are logged from the
backlog's status signal."""

from django.db import transaction
from django.db.models import F

from backlog.models import Status
from pmhub import activity

from .. import sharing
from ..models import Change, ChangeKind, Entry, Roadmap


def record_event(actor, verb: str, obj, roadmap: Roadmap, changes=None):
    """The event of a roadmap write; an entry, lane, milestone, dependency or
    share link names its roadmap as parent, so the roadmap's panel shows it."""
    extra = {}
    if isinstance(obj, Entry):
        extra = {
            "object_title": obj.display_title,
            "object_key": obj.item.key if obj.item_id else "",
        }
    return activity.record(
        roadmap.workspace_id,
        verb,
        obj,
        changes=changes,
        product=roadmap.product_id,
        parent=None if obj is roadmap else roadmap,
        actor=actor,
        **extra,
    )


def touch_roadmap(roadmap_id: int) -> None:
    """Record that what the roadmap shows changed (the shared page's ETag)."""
    Roadmap.objects.filter(pk=roadmap_id).update(revision=F("revision") + 1)
    sharing.forget_roadmap(roadmap_id)
    # Again after commit: a probe cached meanwhile would hold the old revision.
    transaction.on_commit(lambda: sharing.forget_roadmap(roadmap_id))


def log_change(entry: Entry, kind: str, detail: str = "", actor=None, before=None) -> Change:
    """One change-log row. Dates are kept as dates (not text), so a share link
    that shows only quarters can print them as quarters."""
    tags = sorted(t.name for t in entry.item.tags.all()) if entry.item_id else []
    dated = kind in (ChangeKind.ADDED, ChangeKind.MOVED, ChangeKind.SLIPPED) and not detail
    return Change.objects.create(
        roadmap_id=entry.roadmap_id,
        entry=None if kind == ChangeKind.REMOVED else entry,
        kind=kind,
        title=entry.display_title[:255],
        detail=detail[:300],
        from_start=before.start_date if dated and before else None,
        from_end=before.end_date if dated and before else None,
        to_start=entry.start_date if dated else None,
        to_end=entry.end_date if dated else None,
        commitment=entry.commitment,
        tags=tags,
        actor=actor if getattr(actor, "pk", None) else None,
    )


def record_shipped(*, item_id: int, actor_id=None) -> int:
    """Log "shipped" on every roadmap showing the item (from the backlog's
    item_status_changed signal). Returns the number of entries logged."""
    entries = list(
        Entry.objects.filter(item_id=item_id).select_related("item").prefetch_related("item__tags")
    )
    for entry in entries:
        Change.objects.create(
            roadmap_id=entry.roadmap_id,
            entry=entry,
            kind=ChangeKind.SHIPPED,
            title=entry.display_title[:255],
            commitment=entry.commitment,
            tags=sorted(t.name for t in entry.item.tags.all()),
            actor_id=actor_id,
        )
        touch_roadmap(entry.roadmap_id)
    return len(entries)


def status_receiver(sender, *, item_id, old_status, new_status, actor_id=None, **kwargs):
    """Backlog status changes: "shipped" goes to the change log; any status
    shows on cards, so shared pages of the item's roadmaps refresh at once."""
    if new_status == Status.SHIPPED and old_status != Status.SHIPPED:
        record_shipped(item_id=item_id, actor_id=actor_id)
        return
    for roadmap_id in set(
        Entry.objects.filter(item_id=item_id).values_list("roadmap_id", flat=True)
    ):
        touch_roadmap(roadmap_id)
