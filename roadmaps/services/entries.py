"""Entries on a roadmap: add, edit, move (drag and drop, keyboard), shift
on the timeline and remove; every date or horizon change goes to the
change log."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from fractional_indexing import generate_key_between

from backlog import services as backlog_services
from backlog.models import Item
from pmhub import activity
from pmhub.accounts.services import require_editor
from pmhub.errors import DomainError, VersionConflict
from pmhub.versioning import save_versioned

from ..dates import add_months
from ..models import (
    BOARD_STATUSES,
    HORIZON_ORDER,
    ChangeKind,
    Commitment,
    Entry,
    Horizon,
    Lane,
    Layout,
    Roadmap,
)
from .changes import log_change, record_event, touch_roadmap
from .common import check_year, roadmap_product_ids

ENTRY_FIELDS = ("title", "summary", "note", "commitment", "start_date", "end_date", "horizon")


class BadMove(DomainError):
    """The neighbours or the column given for a move do not fit this roadmap."""

    status_code = 400


def _check_dates(start, end) -> None:
    check_year(start, "start_date")
    check_year(end, "end_date")
    if start and end and end < start:
        raise ValidationError({"end_date": "The end must be on or after the start."})


def _rank_last(roadmap_id: int) -> str:
    last = Entry.objects.filter(roadmap_id=roadmap_id).aggregate(m=Max("rank"))["m"]
    return generate_key_between(last, None)


@transaction.atomic
def add_entry(
    actor,
    *,
    roadmap: Roadmap,
    item: Item | None = None,
    title: str = "",
    summary: str = "",
    note: str = "",
    horizon: str = Horizon.NEXT,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    lane: Lane | None = None,
    commitment: str = Commitment.LIKELY,
) -> Entry:
    """Put a backlog item (or, without one, a free-text card titled
    ``title``) at the end of the roadmap."""
    require_editor(actor, roadmap.workspace)
    title = (title or "").strip()
    if item is not None:
        if item.product_id not in roadmap_product_ids(roadmap):
            raise ValidationError({"item": "That item is not in this roadmap's products."})
        if Entry.objects.filter(roadmap=roadmap, item=item).exists():
            raise ValidationError({"item": f"{item.key} is already on this roadmap."})
        title = ""
    elif not title:
        raise ValidationError({"title": "Pick a backlog item or give the card a title."})
    elif roadmap.layout == Layout.STATUS:
        raise ValidationError(
            {"title": "A status board shows backlog items: pick one from the backlog."}
        )
    if lane is not None and lane.roadmap_id != roadmap.pk:
        raise ValidationError({"lane": "That lane belongs to another roadmap."})
    _check_dates(start_date, end_date)
    if roadmap.layout == Layout.TIMELINE and start_date is None:
        start_date = roadmap.timeline_start()
        if end_date is None or end_date < start_date:
            end_date = add_months(start_date, 1) - dt.timedelta(days=1)
    entry = Entry(
        roadmap=roadmap,
        item=item,
        title=title[:255],
        summary=summary,
        note=note,
        horizon=horizon,
        start_date=start_date,
        end_date=end_date,
        lane=lane,
        commitment=commitment,
        rank=_rank_last(roadmap.pk),
    )
    entry.full_clean(exclude=["rank"])
    entry.save()
    detail = f"in {Horizon(horizon).label}" if roadmap.layout == Layout.NOW_NEXT_LATER else ""
    log_change(entry, ChangeKind.ADDED, detail, actor)
    record_event(actor, "roadmap_entry.added", entry, roadmap)
    touch_roadmap(roadmap.pk)
    return entry


def _movement(roadmap: Roadmap, before: Entry, after: Entry) -> tuple[str, str] | None:
    """("moved" or "slipped", detail) when the entry's place in time changed."""
    if before.horizon != after.horizon and roadmap.layout == Layout.NOW_NEXT_LATER:
        later = HORIZON_ORDER[after.horizon] > HORIZON_ORDER[before.horizon]
        kind = ChangeKind.SLIPPED if later else ChangeKind.MOVED
        return kind, f"{Horizon(before.horizon).label} → {Horizon(after.horizon).label}"
    if (before.start_date, before.end_date) != (after.start_date, after.end_date):
        slipped = bool(before.end_date and after.end_date and after.end_date > before.end_date)
        return (ChangeKind.SLIPPED if slipped else ChangeKind.MOVED), ""
    return None


@transaction.atomic
def update_entry(actor, *, entry: Entry, expected_version: int | None, fields: dict) -> Entry:
    """Change an entry's text, commitment, dates, horizon or lane if it is
    still at ``expected_version``. Date and horizon changes go to the change
    log (a later end or horizon is "slipped")."""
    roadmap = entry.roadmap
    require_editor(actor, roadmap.workspace)
    fields = dict(fields)
    unknown = set(fields) - {*ENTRY_FIELDS, "lane"}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()
        if entry.item_id:
            fields.pop("title")  # an item's title lives on the item
        elif not fields["title"]:
            raise ValidationError({"title": "A card needs a title."})
    if "lane" in fields and fields["lane"] is not None and fields["lane"].roadmap_id != roadmap.pk:
        raise ValidationError({"lane": "That lane belongs to another roadmap."})
    _check_dates(fields.get("start_date", entry.start_date), fields.get("end_date", entry.end_date))
    before = Entry(horizon=entry.horizon, start_date=entry.start_date, end_date=entry.end_date)
    changed = {k: v for k, v in fields.items() if getattr(entry, k) != v}
    if not changed:
        if expected_version is not None and expected_version != entry.version:
            raise VersionConflict(current=Entry.objects.filter(pk=entry.pk).first())
        return entry
    old_values = activity.values_of(entry, changed)
    entry = save_versioned(entry, expected_version=expected_version, fields=changed)
    movement = _movement(roadmap, before, entry)
    if movement:
        log_change(entry, movement[0], movement[1], actor, before=before)
    verb = "roadmap_entry.moved" if movement else "roadmap_entry.updated"
    record_event(actor, verb, entry, roadmap, activity.diff(old_values, changed))
    touch_roadmap(roadmap.pk)
    return entry


def _rank_between(entry: Entry, *, before: Entry | None, after: Entry | None) -> str:
    """A rank directly above ``before`` / below ``after`` in the roadmap's
    single order (columns and lanes are filters of it)."""
    siblings = Entry.objects.filter(roadmap_id=entry.roadmap_id).exclude(pk=entry.pk)
    lower = upper = None
    if after is not None:
        lower = Entry.objects.filter(pk=after.pk).values_list("rank", flat=True).first()
    if before is not None:
        upper = Entry.objects.filter(pk=before.pk).values_list("rank", flat=True).first()
    if (after is not None and lower is None) or (before is not None and upper is None):
        raise BadMove("A neighbouring entry was removed meanwhile; reload and try again.")
    if after is not None and before is None:
        upper = siblings.filter(rank__gt=lower).aggregate(m=Min("rank"))["m"]
    elif before is not None and after is None:
        lower = siblings.filter(rank__lt=upper).aggregate(m=Max("rank"))["m"]
    elif before is None and after is None:
        lower = siblings.aggregate(m=Max("rank"))["m"]
    if lower is not None and upper is not None:
        if lower >= upper:
            raise BadMove("“after” must come before “before”.")
        between = siblings.filter(rank__gt=lower, rank__lt=upper).aggregate(m=Min("rank"))["m"]
        if between is not None:
            upper = between  # entries of other columns sit in the gap: land below "after"
    return generate_key_between(lower, upper)


def move_entry(
    actor,
    *,
    entry: Entry,
    expected_version: int | None,
    column: str | None = None,
    lane: Lane | bool | None = False,
    before: Entry | None = None,
    after: Entry | None = None,
    item_version: int | None = None,
) -> Entry:
    """Drop ``entry`` into ``column`` (a horizon on Now/Next/Later, an item
    status on a status board; None keeps it) and ``lane`` (False keeps it),
    between ``after`` and ``before`` (entries, or a board's cards: only their
    pk and roadmap_id are read). Writes the entry's row once (rank, and
    horizon or lane if they change), checked against ``expected_version``.

    On a status board the column is the item's status: it is changed through
    ``backlog.services.update_item`` with the item's version check
    (``item_version``), so a stale board cannot overwrite a newer status."""
    roadmap = entry.roadmap
    require_editor(actor, roadmap.workspace)
    for neighbour in (before, after):
        if neighbour is not None and (
            neighbour.roadmap_id != entry.roadmap_id or neighbour.pk == entry.pk
        ):
            raise BadMove("Neighbours must be other entries of the same roadmap.")
    if lane is not False and lane is not None and lane.roadmap_id != roadmap.pk:
        raise BadMove("That lane belongs to another roadmap.")
    fields: dict = {}
    new_status = None
    if column is not None:
        if roadmap.layout == Layout.NOW_NEXT_LATER:
            if column not in Horizon.values:
                raise BadMove(f"Unknown column {column!r}.")
            fields["horizon"] = column
        elif roadmap.layout == Layout.STATUS:
            if column not in [s.value for s in BOARD_STATUSES]:
                raise BadMove(f"Unknown column {column!r}.")
            if entry.item_id and entry.item.status != column:
                new_status = column
        else:
            raise BadMove("A timeline has no columns to drop into; change the dates instead.")
    if lane is not False:
        fields["lane"] = lane
    before_entry = Entry(
        horizon=entry.horizon, start_date=entry.start_date, end_date=entry.end_date
    )
    for attempt in range(5):
        try:
            with transaction.atomic():
                if new_status is not None:
                    item = Item.objects.select_related("product__workspace").get(pk=entry.item_id)
                    backlog_services.update_item(
                        actor,
                        item=item,
                        expected_version=item_version,
                        fields={"status": new_status},
                    )
                    entry.item = item
                rank = _rank_between(entry, before=before, after=after)
                old_values = activity.values_of(entry, [*fields, "rank"])
                saved = save_versioned(
                    entry, expected_version=expected_version, fields={**fields, "rank": rank}
                )
                movement = _movement(roadmap, before_entry, saved)
                if movement:
                    log_change(saved, movement[0], movement[1], actor, before=before_entry)
                changes = activity.diff(old_values, activity.values_of(saved, old_values))
                record_event(actor, "roadmap_entry.moved", saved, roadmap, changes)
                touch_roadmap(roadmap.pk)
                return saved
        except IntegrityError:
            entry.refresh_from_db()
            if attempt == 4:
                raise
    return entry


def move_entry_by(actor, *, entry: Entry, expected_version: int | None, steps: int) -> Entry:
    """Keyboard reorder: one place up or down among the cards shown with it
    (same lane and column, as ``reads.load_board`` groups them)."""
    from .. import reads  # reads builds on the services

    board = reads.load_board(entry.roadmap)
    shown = [column.cards for lane in board.lanes for column in lane.columns]
    for cards in [*shown, board.unscheduled]:
        ids = [card.id for card in cards]
        if entry.pk not in ids:
            continue
        index = ids.index(entry.pk) + (-1 if steps < 0 else 1)
        if not 0 <= index < len(cards):
            return entry
        neighbour = cards[index]  # a reads.Card: move_entry reads only its pk and roadmap_id
        if steps < 0:
            return move_entry(
                actor, entry=entry, expected_version=expected_version, before=neighbour
            )
        return move_entry(actor, entry=entry, expected_version=expected_version, after=neighbour)
    return entry


@transaction.atomic
def shift_entry(
    actor, *, entry: Entry, expected_version: int | None, months: int = 0, resize: int = 0
) -> Entry:
    """Timeline drag: move the bar ``months`` months (start and end), or
    stretch its end by ``resize`` months. Days of month are kept where they exist."""
    start, end = entry.start_date, entry.end_date
    if start is None or end is None:
        raise ValidationError({"start_date": "Give the entry dates first."})
    start = _shift_date(start, months)
    end = _shift_date(end, months + resize)
    if end < start:
        end = add_months(start, 1) - dt.timedelta(days=1)
    return update_entry(
        actor,
        entry=entry,
        expected_version=expected_version,
        fields={"start_date": start, "end_date": end},
    )


def _shift_date(value: dt.date, months: int) -> dt.date:
    first = add_months(value.replace(day=1), months)
    last_day = (add_months(first, 1) - dt.timedelta(days=1)).day
    # An end on the last day of a month stays on the last day.
    month_end = (add_months(value.replace(day=1), 1) - dt.timedelta(days=1)).day
    day = last_day if value.day == month_end else min(value.day, last_day)
    return first.replace(day=day)


@transaction.atomic
def remove_entry(actor, *, entry: Entry, expected_version: int | None = None) -> None:
    require_editor(actor, entry.roadmap.workspace)
    qs = Entry.objects.filter(pk=entry.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    victim = qs.select_related("item").first()
    if victim is None:
        raise VersionConflict(current=Entry.objects.filter(pk=entry.pk).first())
    log_change(victim, ChangeKind.REMOVED, "", actor)
    record_event(actor, "roadmap_entry.removed", victim, entry.roadmap)
    victim.delete()
    touch_roadmap(entry.roadmap_id)
