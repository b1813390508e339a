"""Writes for roadmaps: roadmaps, lanes, entries, moves, milestones,
dependencies, investment targets, the change log and share links. HTML
views, the API and the demo all call these functions.

Permissions: members read; editors (and above) edit roadmaps; share links
are created and revoked by admins and owners (DESIGN.md: "admins manage …
share links") — a link publishes the roadmap outside the workspace."""

import datetime as dt
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min
from django.utils import timezone
from fractional_indexing import generate_key_between

from backlog import services as backlog_services
from backlog.models import Item, Status
from pmhub.accounts.models import hash_token
from pmhub.accounts.services import require_admin, require_editor
from pmhub.errors import DomainError, VersionConflict
from pmhub.versioning import delete_versioned, save_versioned
from products.models import Objective, Product

from . import sharing
from .dates import format_date
from .models import (
    BOARD_STATUSES,
    HORIZON_ORDER,
    Change,
    ChangeKind,
    Commitment,
    DateMode,
    Dependency,
    Entry,
    Granularity,
    Horizon,
    Lane,
    LaneBy,
    Layout,
    Milestone,
    Roadmap,
    ShareLink,
)

PASSWORD_ATTEMPTS = 5  # wrong passwords per link and address …
PASSWORD_WINDOW = 15 * 60  # … within this many seconds, then 429
ROADMAP_FIELDS = (
    "name",
    "description",
    "layout",
    "lane_by",
    "granularity",
    "start_date",
    "periods",
)
ENTRY_FIELDS = ("title", "summary", "note", "commitment", "start_date", "end_date", "horizon")


class BadMove(DomainError):
    """The neighbours or the column given for a move do not fit this roadmap."""

    status_code = 400


# --- helpers -----------------------------------------------------------------------------------


def roadmap_products(roadmap: Roadmap) -> list[Product]:
    if roadmap.product_id:
        return [roadmap.product]
    return list(roadmap.products.order_by("name", "id"))


def roadmap_product_ids(roadmap: Roadmap) -> list[int]:
    if roadmap.product_id:
        return [roadmap.product_id]
    return list(roadmap.products.values_list("id", flat=True))


def _touch(roadmap_id: int) -> None:
    """Record that what the roadmap shows changed (the shared page's ETag)."""
    Roadmap.objects.filter(pk=roadmap_id).update(revision=F("revision") + 1)
    sharing.forget_roadmap(roadmap_id)
    # Again after commit: a probe cached meanwhile would hold the old revision.
    transaction.on_commit(lambda: sharing.forget_roadmap(roadmap_id))


def _log(entry: Entry, kind: str, detail: str = "", actor=None, before=None) -> Change:
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


MIN_YEAR, MAX_YEAR = 1990, 2200


def _check_year(value, field: str) -> None:
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError({field: f"Pick a date between {MIN_YEAR} and {MAX_YEAR}."})


def _clean_roadmap_fields(fields: dict) -> dict:
    fields = dict(fields)
    _check_year(fields.get("start_date"), "start_date")
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"]:
            raise ValidationError({"name": "Name the roadmap."})
    if fields.get("start_date"):
        fields["start_date"] = fields["start_date"].replace(day=1)
    return fields


# --- roadmaps ----------------------------------------------------------------------------------


@transaction.atomic
def create_roadmap(
    actor,
    *,
    workspace,
    name: str,
    product: Product | None = None,
    products=(),
    layout: str = Layout.TIMELINE,
    lane_by: str = LaneBy.NONE,
    granularity: str = Granularity.MONTH,
    start_date: dt.date | None = None,
    periods: int = 12,
    description: str = "",
    investment_target: dict | None = None,
) -> Roadmap:
    """A roadmap of ``product``, or (product None) a portfolio roadmap of
    ``products``, which must be two or more products of ``workspace``."""
    require_editor(actor, workspace)
    if product is not None and product.workspace_id != workspace.pk:
        raise ValidationError({"product": "That product belongs to another workspace."})
    products = list(products)
    if product is None:
        if any(p.workspace_id != workspace.pk for p in products):
            raise ValidationError({"products": "Pick products of this workspace."})
        if len({p.pk for p in products}) < 2:
            raise ValidationError({"products": "A portfolio roadmap spans two or more products."})
    fields = _clean_roadmap_fields(
        {
            "name": name,
            "description": description,
            "layout": layout,
            "lane_by": lane_by,
            "granularity": granularity,
            "start_date": start_date or timezone.localdate().replace(day=1),
            "periods": periods,
        }
    )
    if fields["lane_by"] == LaneBy.PRODUCT and product is not None:
        fields["lane_by"] = LaneBy.NONE  # one product: one lane
    if investment_target:
        product_ids = [product.pk] if product is not None else [p.pk for p in products]
        fields["investment_target"] = _clean_investment_target(product_ids, investment_target)
    roadmap = Roadmap(workspace=workspace, product=product, created_by=actor, **fields)
    roadmap.full_clean()
    roadmap.save()
    if product is None:
        roadmap.products.set(products)
    return roadmap


@transaction.atomic
def update_roadmap(actor, *, roadmap: Roadmap, expected_version: int | None, fields: dict):
    """Change settings and/or the investment target split in one versioned
    write: if any of it is invalid, nothing is saved."""
    require_editor(actor, roadmap.workspace)
    unknown = set(fields) - {*ROADMAP_FIELDS, "investment_target"}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    fields = _clean_roadmap_fields(fields)
    if fields.get("lane_by") == LaneBy.PRODUCT and roadmap.product_id:
        raise ValidationError({"lane_by": "Lanes by product need a portfolio roadmap."})
    if "investment_target" in fields:
        fields["investment_target"] = _clean_investment_target(
            roadmap_product_ids(roadmap), fields["investment_target"]
        )
    roadmap = save_versioned(roadmap, expected_version=expected_version, fields=fields)
    _touch(roadmap.pk)
    return roadmap


@transaction.atomic
def delete_roadmap(actor, *, roadmap: Roadmap, expected_version: int | None = None) -> None:
    require_editor(actor, roadmap.workspace)
    # Its share links go with it; sharing.link_deleted drops their cached probes.
    delete_versioned(roadmap, expected_version=expected_version)


def set_investment_target(
    actor, *, roadmap: Roadmap, expected_version: int | None, target: dict
) -> Roadmap:
    """The target split of effort per objective, in percent (summing to 100)."""
    return update_roadmap(
        actor,
        roadmap=roadmap,
        expected_version=expected_version,
        fields={"investment_target": target},
    )


def _clean_investment_target(product_ids: list[int], target: dict | None) -> dict:
    """``target`` as {objective id: percent}, checked against the objectives
    of ``product_ids``; zero shares are dropped, the rest must sum to 100."""
    allowed = set(Objective.objects.filter(product_id__in=product_ids).values_list("id", flat=True))
    clean = {}
    errors = {}
    for key, value in (target or {}).items():
        try:
            objective_id = int(key)
            percent = float(value)
        except (TypeError, ValueError):
            errors[str(key)] = "Enter a number of percent."
            continue
        if objective_id not in allowed:
            errors[str(key)] = "Not an objective of this roadmap's products."
        elif not 0 <= percent <= 100:
            errors[str(key)] = "Between 0 and 100."
        elif percent:
            clean[str(objective_id)] = round(percent, 1)
    if not errors and clean and abs(sum(clean.values()) - 100) > 0.5:
        errors["target"] = f"The split adds up to {sum(clean.values()):g}%, not 100%."
    if errors:
        raise ValidationError(errors)
    return clean


# --- lanes -------------------------------------------------------------------------------------


@transaction.atomic
def add_lane(actor, *, roadmap: Roadmap, name: str) -> Lane:
    require_editor(actor, roadmap.workspace)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the lane."})
    if Lane.objects.filter(roadmap=roadmap, name=name).exists():
        raise ValidationError({"name": f"There is already a lane called {name}."})
    position = (Lane.objects.filter(roadmap=roadmap).aggregate(m=Max("position"))["m"] or 0) + 1
    lane = Lane.objects.create(roadmap=roadmap, name=name[:60], position=position)
    _touch(roadmap.pk)
    return lane


@transaction.atomic
def delete_lane(actor, *, lane: Lane) -> None:
    """Delete a custom lane; its entries stay, without a lane."""
    require_editor(actor, lane.roadmap.workspace)
    lane.delete()
    _touch(lane.roadmap_id)


# --- entries -----------------------------------------------------------------------------------


def _check_dates(start, end) -> None:
    _check_year(start, "start_date")
    _check_year(end, "end_date")
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
            end_date = _add_months(start_date, 1) - dt.timedelta(days=1)
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
    _log(entry, ChangeKind.ADDED, detail, actor)
    _touch(roadmap.pk)
    return entry


def _add_months(value: dt.date, months: int) -> dt.date:
    month = value.month - 1 + months
    return value.replace(year=value.year + month // 12, month=month % 12 + 1, day=1)


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
    entry = save_versioned(entry, expected_version=expected_version, fields=changed)
    movement = _movement(roadmap, before, entry)
    if movement:
        _log(entry, movement[0], movement[1], actor, before=before)
    _touch(roadmap.pk)
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
    between ``after`` and ``before``. Writes the entry's row once (rank, and
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
                saved = save_versioned(
                    entry, expected_version=expected_version, fields={**fields, "rank": rank}
                )
                movement = _movement(roadmap, before_entry, saved)
                if movement:
                    _log(saved, movement[0], movement[1], actor, before=before_entry)
                _touch(roadmap.pk)
                return saved
        except IntegrityError:
            entry.refresh_from_db()
            if attempt == 4:
                raise
    return entry


def move_entry_by(actor, *, entry: Entry, expected_version: int | None, steps: int) -> Entry:
    """Keyboard reorder: one place up or down among the cards shown with it
    (same lane and column, as ``reads.load_board`` groups them)."""
    from . import reads  # reads builds on this module

    board = reads.load_board(entry.roadmap)
    shown = [column.cards for lane in board.lanes for column in lane.columns]
    for cards in [*shown, board.unscheduled]:
        ids = [card.entry.pk for card in cards]
        if entry.pk not in ids:
            continue
        index = ids.index(entry.pk) + (-1 if steps < 0 else 1)
        if not 0 <= index < len(cards):
            return entry
        neighbour = cards[index].entry
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
        end = _add_months(start, 1) - dt.timedelta(days=1)
    return update_entry(
        actor,
        entry=entry,
        expected_version=expected_version,
        fields={"start_date": start, "end_date": end},
    )


def _shift_date(value: dt.date, months: int) -> dt.date:
    first = _add_months(value.replace(day=1), months)
    last_day = (_add_months(first, 1) - dt.timedelta(days=1)).day
    # An end on the last day of a month stays on the last day.
    month_end = (_add_months(value.replace(day=1), 1) - dt.timedelta(days=1)).day
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
    _log(victim, ChangeKind.REMOVED, "", actor)
    victim.delete()
    _touch(entry.roadmap_id)


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
        _touch(entry.roadmap_id)
    return len(entries)


# --- milestones and dependencies ----------------------------------------------------------------


@transaction.atomic
def add_milestone(actor, *, roadmap: Roadmap, name: str, date, kind: str = "milestone"):
    require_editor(actor, roadmap.workspace)
    name = (name or "").strip()
    _check_year(date, "date")
    milestone = Milestone(roadmap=roadmap, name=name, date=date, kind=kind)
    milestone.full_clean()
    milestone.save()
    _touch(roadmap.pk)
    return milestone


@transaction.atomic
def update_milestone(actor, *, milestone: Milestone, expected_version: int | None, fields: dict):
    require_editor(actor, milestone.roadmap.workspace)
    unknown = set(fields) - {"name", "date", "kind"}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    _check_year(fields.get("date"), "date")
    milestone = save_versioned(milestone, expected_version=expected_version, fields=fields)
    _touch(milestone.roadmap_id)
    return milestone


@transaction.atomic
def delete_milestone(actor, *, milestone: Milestone, expected_version: int | None = None):
    require_editor(actor, milestone.roadmap.workspace)
    delete_versioned(milestone, expected_version=expected_version)
    _touch(milestone.roadmap_id)


@transaction.atomic
def add_dependency(actor, *, blocker: Entry, blocked: Entry) -> Dependency:
    roadmap = blocker.roadmap
    require_editor(actor, roadmap.workspace)
    if blocked.roadmap_id != blocker.roadmap_id:
        raise ValidationError({"blocked": "Both entries must be on the same roadmap."})
    if blocked.pk == blocker.pk:
        raise ValidationError({"blocked": "An entry cannot block itself."})
    if Dependency.objects.filter(blocker=blocked, blocked=blocker).exists():
        raise ValidationError({"blocked": "The other entry already blocks this one."})
    dependency, _ = Dependency.objects.get_or_create(
        roadmap=roadmap, blocker=blocker, blocked=blocked
    )
    _touch(roadmap.pk)
    return dependency


@transaction.atomic
def remove_dependency(actor, *, dependency: Dependency) -> None:
    require_editor(actor, dependency.roadmap.workspace)
    dependency.delete()
    _touch(dependency.roadmap_id)


def dependency_warning(blocker: Entry, blocked: Entry) -> str:
    """Why this dependency is a problem, or "" when the plan is consistent:
    the blocker ends after the entry it blocks starts."""
    if blocker.end_date and blocked.start_date and blocker.end_date > blocked.start_date:
        return (
            f"“{blocker.display_title}” ends {format_date(blocker.end_date)}, after "
            f"“{blocked.display_title}” starts ({format_date(blocked.start_date)})."
        )
    if (
        blocker.roadmap.layout == Layout.NOW_NEXT_LATER
        and HORIZON_ORDER[blocker.horizon] > HORIZON_ORDER[blocked.horizon]
    ):
        return (
            f"“{blocker.display_title}” is planned for {Horizon(blocker.horizon).label}, "
            f"after “{blocked.display_title}” ({Horizon(blocked.horizon).label})."
        )
    return ""


# --- share links -------------------------------------------------------------------------------


@transaction.atomic
def create_share_link(
    actor,
    *,
    roadmap: Roadmap,
    label: str,
    expires_at=None,
    password: str = "",
    hide_scores: bool = True,
    hide_owners: bool = True,
    hide_notes: bool = True,
    date_mode: str = DateMode.EXACT,
    exclude_tags=(),
    exclude_commitments=(),
) -> tuple[ShareLink, str]:
    """A new link; returns it with the raw token (256 random bits), which is
    stored only as its SHA-256 and cannot be shown again."""
    require_admin(actor, roadmap.workspace)
    label = (label or "").strip() or "Shared roadmap"
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "Pick a time in the future."})
    bad = [c for c in exclude_commitments if c not in Commitment.values]
    if bad:
        raise ValidationError({"exclude_commitments": f"Unknown commitment level {bad[0]!r}."})
    if date_mode not in DateMode.values:
        raise ValidationError({"date_mode": f"Unknown date mode {date_mode!r}."})
    if password and len(password) < 6:
        raise ValidationError({"password": "Use at least 6 characters, or leave it empty."})
    raw = secrets.token_urlsafe(32)
    link = ShareLink.objects.create(
        roadmap=roadmap,
        label=label[:80],
        token_hash=hash_token(raw),
        password=make_password(password) if password else "",
        expires_at=expires_at,
        hide_scores=hide_scores,
        hide_owners=hide_owners,
        hide_notes=hide_notes,
        date_mode=date_mode,
        exclude_tags=sorted({t.strip().lower() for t in exclude_tags if t.strip()}),
        exclude_commitments=sorted(set(exclude_commitments)),
        created_by=actor,
    )
    return link, raw


@transaction.atomic
def revoke_share_link(actor, *, link: ShareLink) -> ShareLink:
    """Revoke at once: the next request with the token is a 404."""
    require_admin(actor, link.roadmap.workspace)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=link.revoked_at, version=F("version") + 1, updated_at=link.revoked_at
        )
        sharing.forget_link(link.token_hash)
        # Also after commit: a probe read meanwhile must not outlive the revocation.
        transaction.on_commit(lambda: sharing.forget_link(link.token_hash))
    return link


def rotate_demo_link(actor, *, roadmap: Roadmap, label: str, **options) -> tuple[ShareLink, str]:
    """Revoke earlier live links with this label and create a fresh one (the
    token is stored hashed: the only way to print a working link again)."""
    for link in ShareLink.objects.live().filter(roadmap=roadmap, label=label):
        revoke_share_link(actor, link=link)
    return create_share_link(actor, roadmap=roadmap, label=label, **options)


class TooManyAttempts(DomainError):
    """Too many wrong passwords; try again later."""

    status_code = 429


def check_share_password(link: ShareLink, password: str, *, client: str) -> bool:
    """True if ``password`` opens the link. Wrong attempts are counted per
    link and client address in the cache; past PASSWORD_ATTEMPTS within
    PASSWORD_WINDOW every attempt (right or wrong) raises TooManyAttempts."""
    key = f"roadmaps:share-pw:{link.token_hash}:{client}"
    if (cache.get(key) or 0) >= PASSWORD_ATTEMPTS:
        raise TooManyAttempts()
    if check_password(password or "", link.password):
        return True
    try:
        cache.add(key, 0, PASSWORD_WINDOW)
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, PASSWORD_WINDOW)
    return False


def status_receiver(sender, *, item_id, old_status, new_status, actor_id=None, **kwargs):
    """Backlog status changes: "shipped" goes to the change log; any status
    shows on cards, so shared pages of the item's roadmaps refresh at once."""
    if new_status == Status.SHIPPED and old_status != Status.SHIPPED:
        record_shipped(item_id=item_id, actor_id=actor_id)
        return
    for roadmap_id in set(
        Entry.objects.filter(item_id=item_id).values_list("roadmap_id", flat=True)
    ):
        _touch(roadmap_id)
