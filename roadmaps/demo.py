"""Demo roadmaps: for each demo product a delivery timeline and a Now / Next /
Later roadmap built from the demo backlog, a status board for Analytics, and
a portfolio roadmap across both products; milestones, a dependency with a
warning, a target investment split, some change history, and a share link.

Roadmaps are created once. The share link's token is stored only hashed,
so every run revokes the previous demo link and prints a fresh, working one."""

import datetime as dt
import os
import sys

from django.utils import timezone

from backlog.models import Item, Status
from products.models import Objective, Product

from . import services
from .models import Change, ChangeKind, Commitment, Granularity, Horizon, LaneBy, Layout, Roadmap

DEMO_LINK_LABEL = "Demo: executive update"
COMMITMENT = {
    Status.IN_PROGRESS: Commitment.COMMITTED,
    Status.PLANNED: Commitment.LIKELY,
    Status.CANDIDATE: Commitment.EXPLORING,
    Status.SHIPPED: Commitment.COMMITTED,
}
HORIZON = {
    Status.IN_PROGRESS: Horizon.NOW,
    Status.SHIPPED: Horizon.NOW,
    Status.PLANNED: Horizon.NEXT,
    Status.CANDIDATE: Horizon.LATER,
}


def _month(offset: int) -> dt.date:
    today = timezone.localdate().replace(day=1)
    month = today.month - 1 + offset
    return today.replace(year=today.year + month // 12, month=month % 12 + 1)


def _month_end(offset: int) -> dt.date:
    return _month(offset + 1) - dt.timedelta(days=1)


def seed(*, workspace, users) -> bool:
    owner = users["demo"]
    created = False
    products = {
        p.key: p for p in Product.objects.filter(workspace=workspace, key__in=["PAY", "ANL"])
    }
    if not Roadmap.objects.filter(workspace=workspace).exists() and products:
        created = True
        for key in ("PAY", "ANL"):
            if key in products and Item.objects.filter(product=products[key]).exists():
                _seed_product(products[key], owner, users)
        if len(products) == 2:
            _seed_portfolio(workspace, list(products.values()), owner)
    _print_demo_link(workspace, owner)
    return created


def _candidates(product, limit, quotas=None):
    """The backlog's best open work: in progress first, then planned, then
    candidates (at most ``quotas[status]`` of each)."""
    items = list(
        Item.objects.filter(
            product=product,
            status__in=[Status.IN_PROGRESS, Status.PLANNED, Status.CANDIDATE],
        )
        .exclude(type="epic")
        .order_by("rank")
    )
    order = {Status.IN_PROGRESS: 0, Status.PLANNED: 1, Status.CANDIDATE: 2}
    items.sort(key=lambda i: order[i.status])
    if quotas:
        taken = dict.fromkeys(order, 0)
        picked = []
        for item in items:
            if taken[item.status] < quotas.get(item.status, 0):
                taken[item.status] += 1
                picked.append(item)
        items = picked
    return items[:limit]


def _seed_product(product, owner, users):
    objectives = list(Objective.objects.filter(product=product).order_by("position", "id"))
    # 1. The delivery timeline: dated bars, lanes by objective.
    timeline = services.create_roadmap(
        owner,
        workspace=product.workspace,
        product=product,
        name=f"{product.name} delivery timeline",
        description="For the delivery team: what ships when.",
        layout=Layout.TIMELINE,
        lane_by=LaneBy.OBJECTIVE,
        granularity=Granularity.MONTH,
        start_date=_month(-1),
        periods=9,
    )
    entries = []
    for n, item in enumerate(_candidates(product, 14)):
        first = {Status.IN_PROGRESS: -1, Status.PLANNED: 1, Status.CANDIDATE: 4}[
            item.status
        ] + n % 3
        length = 1 + (n * 7) % 3
        entries.append(
            services.add_entry(
                owner,
                roadmap=timeline,
                item=item,
                start_date=_month(first) + dt.timedelta(days=(n * 5) % 14),
                end_date=_month_end(first + length - 1),
                commitment=COMMITMENT[item.status],
                note="Engineering estimate from the last refinement; re-check capacity."
                if n % 4 == 0
                else "",
                summary="",
            )
        )
    services.add_entry(
        owner,
        roadmap=timeline,
        title="Security review with the external auditor",
        start_date=_month(2),
        end_date=_month_end(2),
        commitment=Commitment.COMMITTED,
        note="Auditor booked; scope still to agree with the CISO.",
    )
    release = "EU launch" if product.key == "PAY" else "Analytics 2.0 release"
    services.add_milestone(
        owner, roadmap=timeline, name=release, date=_month(3) + dt.timedelta(14), kind="release"
    )
    services.add_milestone(
        owner, roadmap=timeline, name="Board review", date=_month(1) + dt.timedelta(20)
    )
    services.add_milestone(
        owner, roadmap=timeline, name="Sales kick-off", date=_month(6) + dt.timedelta(9)
    )
    if len(entries) >= 6:
        # A dependency whose blocker ends after the blocked entry starts: a warning.
        blocker, blocked = entries[4], entries[1]
        blocked = (
            services.update_entry(
                owner,
                entry=blocked,
                expected_version=blocked.version,
                fields={"start_date": blocker.start_date + dt.timedelta(days=7)},
            )
            if blocked.end_date and blocker.start_date + dt.timedelta(days=7) <= blocked.end_date
            else blocked
        )
        services.add_dependency(owner, blocker=blocker, blocked=blocked)
        services.add_dependency(owner, blocker=entries[0], blocked=entries[5])
        # History: one slipped a month, one pulled in, one removed.
        slipped = entries[2]
        services.shift_entry(owner, entry=slipped, expected_version=slipped.version, months=1)
        pulled = entries[3]
        services.shift_entry(owner, entry=pulled, expected_version=pulled.version, months=-1)
    if objectives:
        split = _split(objectives)
        timeline.refresh_from_db()
        services.set_investment_target(
            owner, roadmap=timeline, expected_version=timeline.version, target=split
        )
    # 2. Now / Next / Later for executives.
    nnl = services.create_roadmap(
        owner,
        workspace=product.workspace,
        product=product,
        name=f"{product.name} — Now / Next / Later",
        description="For leadership: direction and why, without dates.",
        layout=Layout.NOW_NEXT_LATER,
        lane_by=LaneBy.NONE,
    )
    nnl_entries = []
    quotas = {Status.IN_PROGRESS: 4, Status.PLANNED: 5, Status.CANDIDATE: 4}
    for item in _candidates(product, 13, quotas):
        nnl_entries.append(
            services.add_entry(
                owner,
                roadmap=nnl,
                item=item,
                horizon=HORIZON[item.status],
                commitment=COMMITMENT[item.status],
                summary=f"{item.title}: because customers asked for it in interviews and support.",
                note="Internal: depends on the platform team's Q3 capacity."
                if item.status == Status.PLANNED
                else "",
            )
        )
    services.add_entry(
        owner,
        roadmap=nnl,
        title="Partner programme for agencies"
        if product.key == "PAY"
        else "Self-serve data exports",
        horizon=Horizon.LATER,
        commitment=Commitment.EXPLORING,
        summary="Early discovery; we will share findings next quarter.",
    )
    if objectives:
        nnl.refresh_from_db()
        services.set_investment_target(
            owner, roadmap=nnl, expected_version=nnl.version, target=_split(objectives)
        )
    if len(nnl_entries) > 6:
        moving = nnl_entries[6]
        services.move_entry(
            owner, entry=moving, expected_version=moving.version, column=Horizon.LATER
        )
        services.remove_entry(owner, entry=nnl_entries[-1])
        services.add_dependency(owner, blocker=nnl_entries[5], blocked=nnl_entries[0])
    # Something shipped recently: the backlog's status change reaches the change log.
    shipping = next(
        (e for e in nnl_entries[:4] if e.item and e.item.status == Status.IN_PROGRESS), None
    )
    if shipping is not None:
        from backlog import services as backlog_services

        item = Item.objects.get(pk=shipping.item_id)
        backlog_services.update_item(
            owner, item=item, expected_version=item.version, fields={"status": Status.SHIPPED}
        )
        # The change log's "shipped" line comes from the roadmap-changelog
        # consumer of the event log, dispatched when this transaction commits.
    # 3. A status board (Analytics only).
    if product.key == "ANL":
        status_board = services.create_roadmap(
            owner,
            workspace=product.workspace,
            product=product,
            name="Analytics delivery board",
            description="Stand-up board: drag a card to change the item's status.",
            layout=Layout.STATUS,
            lane_by=LaneBy.NONE,
        )
        for item in _candidates(product, 10):
            services.add_entry(
                owner, roadmap=status_board, item=item, commitment=COMMITMENT[item.status]
            )
    _spread_history(product)


def _split(objectives) -> dict:
    shares = [50, 30, 20] if len(objectives) >= 3 else [60, 40] if len(objectives) == 2 else [100]
    return {str(o.pk): share for o, share in zip(objectives, shares, strict=False)}


def _spread_history(product):
    """Give the change log a realistic spread over the last weeks."""
    now = timezone.now()
    changes = list(Change.objects.filter(roadmap__product=product).order_by("id"))
    for n, change in enumerate(changes):
        age = 40 + n % 20 if change.kind == ChangeKind.ADDED else 1 + n * 3 % 18
        Change.objects.filter(pk=change.pk).update(at=now - dt.timedelta(days=age, hours=n))


def _seed_portfolio(workspace, products, owner):
    portfolio = services.create_roadmap(
        owner,
        workspace=workspace,
        products=products,
        name="Acme portfolio",
        description="Both products on one page, by quarter, for the board.",
        layout=Layout.TIMELINE,
        lane_by=LaneBy.PRODUCT,
        granularity=Granularity.QUARTER,
        start_date=_month(0),
        periods=4,
    )
    for product in products:
        for n, item in enumerate(_candidates(product, 5)):
            start = _month(n * 2)
            services.add_entry(
                owner,
                roadmap=portfolio,
                item=item,
                start_date=start,
                end_date=_month_end(n * 2 + 2),
                commitment=COMMITMENT[item.status],
            )
    services.add_milestone(
        owner,
        roadmap=portfolio,
        name="EU launch",
        date=_month(3) + dt.timedelta(14),
        kind="release",
    )
    _spread_history_portfolio(portfolio)


def _spread_history_portfolio(roadmap):
    now = timezone.now()
    Change.objects.filter(roadmap=roadmap).update(at=now - dt.timedelta(days=45))


def _print_demo_link(workspace, owner) -> None:
    roadmap = (
        Roadmap.objects.filter(
            workspace=workspace, product__key="PAY", layout=Layout.NOW_NEXT_LATER
        )
        .order_by("id")
        .first()
    )
    if roadmap is None:
        return
    _link, token = services.rotate_demo_link(
        owner,
        roadmap=roadmap,
        label=DEMO_LINK_LABEL,
        live=True,  # the printed link updates while open (docs/live.md)
    )
    port = os.environ.get("PORT", "8000")
    sys.stdout.write(
        f"  Demo share link (no login needed; “{roadmap.name}”):\n"
        f"    http://127.0.0.1:{port}/s/{token}/\n"
    )
