"""Screen-shaped reads of a roadmap: the board (columns, lanes, timeline
geometry, dependencies with warnings, the investment mix) in a constant
number of queries whatever the number of entries, the change log as an
audience may see it, the item picker and an entry's dependency panel. Used by
the editor page, the shared page and the keyboard move service.

A board's entries are read as plain rows (``values_list``), one ``Card``
each with what the card shows already joined (the item's key, title, status,
score and owner name): a roadmap holds hundreds of entries, and building an
Entry, an Item and a User instance per card cost more than the rest of the
page. Cards are written by ``roadmaps.rendering`` (and the template
``roadmaps/_cards.html`` it mirrors)."""

import copy
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from backlog.models import Item, Status
from products.models import Objective, Product, Vision

from . import changelog, services
from .dates import add_months, dates_text, format_span, quarter_label
from .models import (
    BOARD_STATUSES,
    Change,
    Commitment,
    Dependency,
    Entry,
    Granularity,
    Horizon,
    LaneBy,
    Layout,
    Milestone,
    Roadmap,
    ShareLink,
)

STATUS_LABELS = dict(Status.choices)
COMMITMENT_LABELS = dict(Commitment.choices)

# What a card reads of its entry and its item, in Card's order; then the item's
# title and its owner's names, which Card.from_row folds into ``title`` and ``owner``.
CARD_COLUMNS = (
    "id",
    "version",
    "roadmap_id",
    "item_id",
    "title",
    "item__key",
    "item__status",
    "item__version",
    "item__product_id",
    "item__score",
    "item__effort",
    "commitment",
    "horizon",
    "start_date",
    "end_date",
    "lane_id",
    "note",
    "item__title",
    "item__owner__username",
    "item__owner__first_name",
    "item__owner__last_name",
)


@dataclass
class Period:
    index: int  # 1-based grid column
    start: dt.date
    label: str
    sub: str = ""
    is_current: bool = False


@dataclass(slots=True, eq=False)
class Card:
    """One entry as a board shows it: the entry's fields, its item's (empty
    for a free-text card) and the owner's name; then what the board adds
    (objectives, tags, dependencies, timeline geometry)."""

    id: int
    version: int
    roadmap_id: int
    item_id: int | None
    title: str  # the item's title, or the free-text card's
    key: str  # the item's key ("" for a free-text card)
    status: str  # the item's status ("" for a free-text card)
    item_version: int | None
    product_id: int | None
    score: float | None
    effort: float | None
    commitment: str
    horizon: str
    start_date: dt.date | None
    end_date: dt.date | None
    lane_id: int | None
    note: str
    owner: str = ""  # the item owner's full name or username
    objectives: list = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    blocked_by: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    col_start: int = 0
    col_end: int = 0
    clip_start: bool = False
    clip_end: bool = False
    exact_dates: bool = True  # False where a share link shows only quarters

    @classmethod
    def from_row(cls, row: tuple) -> "Card":
        """A Card from one ``values_list(*CARD_COLUMNS)`` row."""
        *fields, item_title, username, first_name, last_name = row
        card = cls(*fields)
        if card.item_id is None:
            card.key = card.status = ""
        else:
            card.title = item_title
        if username is not None:  # as User.get_full_name() or username
            card.owner = f"{first_name} {last_name}".strip() or username
        return card

    @property
    def pk(self) -> int:
        return self.id

    @property
    def display_title(self) -> str:
        return self.title

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, "")

    @property
    def commitment_label(self) -> str:
        return COMMITMENT_LABELS.get(self.commitment, "")

    @property
    def score_text(self) -> str:
        """The score as cards print it: "1,250", "42.5"; "" without one."""
        score = self.score
        if score is None:
            return ""
        return f"{score:,.0f}" if abs(score) >= 100 else f"{score:.1f}"

    @property
    def short_label(self) -> str:
        """How another card names this one ("after PAY-12")."""
        return self.key if self.item_id else self.title[:24]

    @property
    def short_title(self) -> str:
        """The title cut to 60 characters, for selects."""
        title = self.title
        return title if len(title) <= 60 else title[:59] + "…"

    @property
    def dates(self) -> str:
        """The entry's dates as its audience reads them; "" without any."""
        return dates_text(self.start_date, self.end_date, exact=self.exact_dates)

    @property
    def after_ids(self) -> str:
        """Ids of the cards this one waits for (``data-after`` of a bar)."""
        return " ".join(str(b.id) for b in self.blocked_by)

    @property
    def after_labels(self) -> str:
        return ", ".join(b.short_label for b in self.blocked_by)


@dataclass
class Column:
    key: str
    label: str
    cards: list


@dataclass
class LaneView:
    key: str
    label: str
    columns: list[Column]
    lane_id: int | None = None


@dataclass
class MixRow:
    objective: Objective | None
    effort: float
    share: float
    target: float | None

    @property
    def delta(self) -> float | None:
        return None if self.target is None else round(self.share - self.target, 1)

    @property
    def off_target(self) -> bool:
        return self.delta is not None and abs(self.delta) >= 10


@dataclass
class Board:
    roadmap: Roadmap
    products: list[Product]
    objectives: list[Objective]
    visions: dict
    cards: list[Card]
    lanes: list[LaneView]
    periods: list[Period]
    milestones: list[Milestone]
    dependencies: list
    mix: list[MixRow]
    unlinked: list[Card]
    unscheduled: list[Card]
    custom_lanes: list

    @property
    def warnings(self) -> list:
        return [d for d in self.dependencies if d["warning"]]


def entry_visible(entry, tags: list[str], link: ShareLink | None) -> bool:
    """Whether a share link's audience may see this entry (an Entry or a Card)."""
    if link is None:
        return True
    if entry.commitment in link.exclude_commitments:
        return False
    return not (link.exclude_tags and set(tags) & set(link.exclude_tags))


def audience_roadmap(link: ShareLink):
    """The roadmap as this audience sees it: with "quarters only", a
    monthly timeline is drawn in quarters."""
    roadmap = link.roadmap
    if (
        not link.exact_dates
        and roadmap.layout == Layout.TIMELINE
        and roadmap.granularity == Granularity.MONTH
    ):
        roadmap = copy.copy(roadmap)
        roadmap.granularity = Granularity.QUARTER
        start = roadmap.timeline_start()
        months = roadmap.periods + (link.roadmap.timeline_start().month - start.month)
        roadmap.periods = max(1, -(-months // 3))
    return roadmap


def load_board(roadmap: Roadmap, *, link: ShareLink | None = None, today=None) -> Board:
    today = today or timezone.localdate()
    products = services.roadmap_products(roadmap)
    product_ids = [p.pk for p in products]
    objectives = list(
        Objective.objects.filter(product_id__in=product_ids)
        .select_related("product")
        .order_by("product__name", "position", "id")
    )
    visions = {v.product_id: v for v in Vision.objects.filter(product_id__in=product_ids)}
    rows = roadmap.entries.order_by("rank", "id").values_list(*CARD_COLUMNS)
    # Objectives and tags of the entries' items: two narrow queries on the
    # link tables, matched in Python to the objectives loaded above.
    order = {o.pk: n for n, o in enumerate(objectives)}
    by_pk = {o.pk: o for o in objectives}
    item_objectives: dict = defaultdict(list)
    for item_id, objective_id in Item.objectives.through.objects.filter(
        item__roadmap_entries__roadmap_id=roadmap.pk
    ).values_list("item_id", "objective_id"):
        if objective_id in by_pk:
            item_objectives[item_id].append(by_pk[objective_id])
    for objs in item_objectives.values():
        objs.sort(key=lambda o: order[o.pk])
    item_tags: dict = defaultdict(list)
    for item_id, name in Item.tags.through.objects.filter(
        item__roadmap_entries__roadmap_id=roadmap.pk
    ).values_list("item_id", "tag__name"):
        item_tags[item_id].append(name)
    exact = link.exact_dates if link is not None else True
    cards = []
    for row in rows:
        card = Card.from_row(row)
        if card.item_id is not None:
            card.objectives = item_objectives.get(card.item_id, [])
            card.tags = sorted(item_tags.get(card.item_id, ()))
        if not exact:
            card.exact_dates = False
        if link is None or entry_visible(card, card.tags, link):
            cards.append(card)
    by_id = {c.id: c for c in cards}
    dependencies = []
    for dep_id, blocker_id, blocked_id in (
        Dependency.objects.filter(roadmap=roadmap)
        .order_by("id")
        .values_list("id", "blocker_id", "blocked_id")
    ):
        blocker, blocked = by_id.get(blocker_id), by_id.get(blocked_id)
        if blocker is None or blocked is None:
            continue  # one side is hidden from this audience
        warning = services.dependency_warning(blocker, blocked, layout=roadmap.layout)
        dependencies.append(
            {"id": dep_id, "blocker": blocker, "blocked": blocked, "warning": warning}
        )
        blocked.blocked_by.append(blocker)
        if warning:
            blocked.warnings.append(warning)
    periods = _periods(roadmap, today) if roadmap.layout == Layout.TIMELINE else []
    unscheduled = []
    if periods:
        for card in cards:
            if not _place(card, roadmap, periods):
                unscheduled.append(card)
    elif roadmap.layout == Layout.STATUS:
        # Items whose status has no column (ideas, declined, archived; cards).
        shown = {s.value for s in BOARD_STATUSES}
        unscheduled = [c for c in cards if not c.item_id or c.status not in shown]
    custom_lanes = list(roadmap.lanes.all()) if roadmap.lane_by == LaneBy.CUSTOM else []
    lanes = _lanes(roadmap, cards, objectives, products, custom_lanes, unscheduled)
    milestones = list(roadmap.milestones.all())
    mix, unlinked = investment_mix(roadmap, cards, objectives)
    return Board(
        roadmap=roadmap,
        products=products,
        objectives=objectives,
        visions=visions,
        cards=cards,
        lanes=lanes,
        periods=periods,
        milestones=milestones,
        dependencies=dependencies,
        mix=mix,
        unlinked=unlinked,
        unscheduled=unscheduled,
        custom_lanes=custom_lanes,
    )


def period_start(roadmap: Roadmap, value: dt.date) -> dt.date:
    if roadmap.granularity == Granularity.QUARTER:
        return value.replace(month=(value.month - 1) // 3 * 3 + 1, day=1)
    return value.replace(day=1)


def _period_index(roadmap: Roadmap, start: dt.date, value: dt.date) -> int:
    months = (value.year - start.year) * 12 + value.month - start.month
    step = 3 if roadmap.granularity == Granularity.QUARTER else 1
    return months // step + 1


def _periods(roadmap: Roadmap, today) -> list[Period]:
    start = roadmap.timeline_start()
    step = 3 if roadmap.granularity == Granularity.QUARTER else 1
    periods = []
    for n in range(roadmap.periods):
        first = add_months(start, n * step)
        nxt = add_months(first, step)
        if step == 3:
            label, sub = f"Q{(first.month - 1) // 3 + 1}", str(first.year)
        else:
            label = first.strftime("%b")
            sub = str(first.year) if n == 0 or first.month == 1 else ""
        periods.append(Period(n + 1, first, label, sub, first <= today < nxt))
    return periods


def _place(card: Card, roadmap: Roadmap, periods: list[Period]) -> bool:
    if not card.start_date or not card.end_date:
        return False
    start = periods[0].start
    first = _period_index(roadmap, start, card.start_date)
    last = _period_index(roadmap, start, card.end_date)
    count = len(periods)
    if last < 1 or first > count:
        return False
    card.clip_start, card.clip_end = first < 1, last > count
    card.col_start = max(first, 1)
    card.col_end = min(last, count) + 1
    return True


def _lanes(roadmap, cards, objectives, products, custom_lanes, unscheduled) -> list[LaneView]:
    """Group the cards into lanes, then into the layout's columns."""
    skip = {id(c) for c in unscheduled}
    placed = [c for c in cards if id(c) not in skip]
    groups: dict = defaultdict(list)
    order: list[tuple[str, str, int | None]] = []
    if roadmap.lane_by == LaneBy.OBJECTIVE:
        order = [(f"o{o.pk}", o.title, None) for o in objectives]
        for c in placed:
            groups[f"o{c.objectives[0].pk}" if c.objectives else "none"].append(c)
        order.append(("none", "No objective", None))
    elif roadmap.lane_by == LaneBy.PRODUCT:
        order = [(f"p{p.pk}", p.name, None) for p in products]
        for c in placed:
            groups[f"p{c.product_id}" if c.item_id else "none"].append(c)
        order.append(("none", "Across products", None))
    elif roadmap.lane_by == LaneBy.TAG:
        names = sorted({c.tags[0] for c in placed if c.tags})
        order = [(f"t{n}", n, None) for n in names]
        for c in placed:
            groups[f"t{c.tags[0]}" if c.tags else "none"].append(c)
        order.append(("none", "Untagged", None))
    elif roadmap.lane_by == LaneBy.CUSTOM:
        order = [(f"l{lane.pk}", lane.name, lane.pk) for lane in custom_lanes]
        for c in placed:
            groups[f"l{c.lane_id}" if c.lane_id else "none"].append(c)
        order.append(("none", "No lane", None))
    else:
        order = [("all", "", None)]
        groups["all"] = placed
    lanes = []
    for key, label, lane_id in order:
        lane_cards = groups.get(key, [])
        if key == "none" and not lane_cards and len(order) > 1:
            continue
        lanes.append(LaneView(key, label, _columns(roadmap, lane_cards), lane_id))
    return lanes


def columns_for(roadmap: Roadmap) -> list[tuple[str, str]]:
    if roadmap.layout == Layout.NOW_NEXT_LATER:
        return list(Horizon.choices)
    if roadmap.layout == Layout.STATUS:
        return [(s.value, s.label) for s in BOARD_STATUSES]
    return [("timeline", "")]


def _columns(roadmap, cards) -> list[Column]:
    columns = {key: Column(key, label, []) for key, label in columns_for(roadmap)}
    for card in cards:
        if roadmap.layout == Layout.NOW_NEXT_LATER:
            key = card.horizon
        elif roadmap.layout == Layout.STATUS:
            key = card.status if card.item_id else None
            if key not in columns:
                continue  # ideas, declined and archived items are not on the board
        else:
            key = "timeline"
        columns[key].cards.append(card)
    return list(columns.values())


def investment_mix(roadmap: Roadmap, cards, objectives) -> tuple[list[MixRow], list[Card]]:
    """Share of the roadmap's effort per objective (an item's effort, in
    person-weeks, 1 when unestimated, split evenly over its objectives),
    against the roadmap's target split; plus the cards linked to no objective."""
    effort: dict = defaultdict(float)
    unlinked = []
    total = 0.0
    for card in cards:
        if card.item_id and card.status in (Status.DECLINED, Status.ARCHIVED):
            continue
        weight = card.effort or 1.0  # free-text cards have no effort
        total += weight
        if not card.objectives:
            unlinked.append(card)
            effort[None] += weight
            continue
        for obj in card.objectives:
            effort[obj.pk] += weight / len(card.objectives)
    target = {int(k): float(v) for k, v in (roadmap.investment_target or {}).items()}
    rows = []
    for obj in objectives:
        share = 100 * effort.get(obj.pk, 0) / total if total else 0
        rows.append(
            MixRow(obj, round(effort.get(obj.pk, 0), 1), round(share, 1), target.get(obj.pk))
        )
    if effort.get(None):
        rows.append(
            MixRow(None, round(effort[None], 1), round(100 * effort[None] / total, 1), None)
        )
    return rows, unlinked


def changes_since(
    roadmap: Roadmap, since, *, link: ShareLink | None = None, limit=100, exact: bool = True
):
    """The change log since ``since`` that a link's audience may see: a
    change of an entry still on the roadmap follows the entry's current
    visibility; a removed entry's follows the copies taken at removal. Each
    change carries ``shown_detail`` (``change_detail`` with ``exact``)."""
    changes = Change.objects.filter(roadmap=roadmap, at__gte=since).order_by("-at", "-id")
    if link is None:
        shown = list(changes[:limit])  # the team sees every change: no entry needed
    else:
        shown = []
        for change in changes.select_related("entry").prefetch_related("entry__item__tags")[:limit]:
            if change.entry_id and change.entry is not None:
                entry = change.entry
                tags = [t.name for t in entry.item.tags.all()] if entry.item_id else []
            else:
                entry = Entry(commitment=change.commitment or Commitment.LIKELY)
                tags = change.tags or []
            if entry_visible(entry, tags, link):
                shown.append(change)
    if link is not None:
        return changelog.coalesce(shown, lambda c: change_detail(c, exact=exact))
    for change in shown:
        change.shown_detail = change_detail(change, exact=exact)
    return shown


def change_detail(change: Change, *, exact: bool = True) -> str:
    """What moved, with dates as dates or only quarters (a share link's choice)."""
    if change.detail:
        return change.detail
    if change.to_start or change.to_end:
        to = format_span(change.to_start, change.to_end, exact=exact)
        if change.from_start or change.from_end:
            was = format_span(change.from_start, change.from_end, exact=exact)
            return f"{was} → {to}" if was != to else f"within {to}"
        return to
    return ""


def milestone_marks(roadmap: Roadmap, board: Board, *, exact: bool = True) -> list[dict]:
    """Milestones inside the timeline's range, with their grid column."""
    if not board.periods:
        return []
    first = board.periods[0].start
    step = 3 if roadmap.granularity == Granularity.QUARTER else 1
    marks = []
    for m in board.milestones:
        col = ((m.date.year - first.year) * 12 + m.date.month - first.month) // step + 1
        if 1 <= col <= len(board.periods):
            when = m.date.strftime("%-d %b") if exact else quarter_label(m.date)
            marks.append({"name": m.name, "kind": m.kind, "when": when, "col": col})
    return marks


def picker_items(roadmap: Roadmap, q: str = ""):
    """Backlog items of the roadmap's products not yet on it, best ranked
    first: those matching ``q`` (title or key), or the open ones."""
    items = (
        Item.objects.filter(product_id__in=services.roadmap_product_ids(roadmap))
        .exclude(roadmap_entries__roadmap=roadmap)
        .select_related("product")
        .order_by("product__name", "rank")
    )
    return items.filter(Q(title__icontains=q) | Q(key__icontains=q)) if q else items.open()


def entry_dependencies(entry: Entry) -> dict:
    """The entry form's dependency panel: what blocks the entry and what it
    blocks, the other entries it could depend on, and the warnings."""
    roadmap = entry.roadmap
    deps_in = Dependency.objects.filter(blocked=entry).select_related("blocker__item")
    warnings = []
    for dep in deps_in:
        dep.blocker.roadmap = roadmap
        message = services.dependency_warning(dep.blocker, entry)
        if message:
            warnings.append(message)
    return {
        "deps_in": deps_in,
        "deps_out": Dependency.objects.filter(blocker=entry).select_related("blocked__item"),
        "others": Entry.objects.filter(roadmap=roadmap)
        .exclude(pk=entry.pk)
        .select_related("item")
        .order_by("rank"),
        "warnings": warnings,
    }
