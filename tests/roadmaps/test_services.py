"""Roadmap services: creation rules, entries from the backlog (one source of
truth), moves with fractional ranks and version checks, status-board moves
through the backlog service, dependencies and warnings, investment mix,
the change log and share links; roles."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog import services as backlog_services
from backlog.models import Item
from pmhub.accounts.models import hash_token
from pmhub.errors import VersionConflict
from roadmaps import reads, services
from roadmaps.models import Change, ChangeKind, Entry, Horizon, Layout, Roadmap, ShareLink
from tests.backlog.factories import make_item
from tests.factories import ProductFactory

from .conftest import entry_of


def test_portfolio_needs_two_products_of_the_workspace(workspace, product, pm, stranger):
    with pytest.raises(ValidationError) as exc:
        services.create_roadmap(pm, workspace=workspace, name="P", products=[product])
    assert "products" in exc.value.message_dict
    other = ProductFactory(workspace=workspace, key="ANL", name="Analytics")
    foreign = ProductFactory(key="FOR", name="Foreign")
    with pytest.raises(ValidationError):
        services.create_roadmap(pm, workspace=workspace, name="P", products=[product, foreign])
    roadmap = services.create_roadmap(pm, workspace=workspace, name="P", products=[product, other])
    assert roadmap.is_portfolio
    assert set(services.roadmap_product_ids(roadmap)) == {product.pk, other.pk}


def test_viewer_and_stranger_cannot_create_or_edit(workspace, product, viewer, stranger, nnl):
    with pytest.raises(PermissionDenied):
        services.create_roadmap(viewer, workspace=workspace, product=product, name="X")
    entry = nnl.entries.first()
    with pytest.raises(PermissionDenied):
        services.update_entry(
            viewer, entry=entry, expected_version=entry.version, fields={"note": "x"}
        )
    with pytest.raises(PermissionDenied):
        services.move_entry(stranger, entry=entry, expected_version=entry.version, column="later")


def test_entry_reads_title_status_and_objectives_from_the_item(pm, nnl, items, objective):
    item = items[0]
    backlog_services.update_item(
        pm, item=item, expected_version=item.version, fields={"title": "Apple Pay everywhere"}
    )
    board = reads.load_board(Roadmap.objects.get(pk=nnl.pk))
    card = next(c for c in board.cards if c.item_id == item.pk)
    assert card.title == "Apple Pay everywhere"
    assert [o.pk for o in card.objectives] == [objective.pk]
    assert Entry.objects.get(pk=card.id).title == ""  # nothing copied onto the entry


def test_item_of_another_product_or_twice_is_refused(workspace, pm, nnl, items):
    other = ProductFactory(workspace=workspace, key="ANL")
    foreign_item = make_item(other, pm, title="Elsewhere")
    with pytest.raises(ValidationError):
        services.add_entry(pm, roadmap=nnl, item=foreign_item)
    with pytest.raises(ValidationError):
        services.add_entry(pm, roadmap=nnl, item=items[0])
    with pytest.raises(ValidationError):
        services.add_entry(pm, roadmap=nnl, title="   ")


def test_move_between_columns_writes_one_row_and_logs(pm, nnl, items):
    entry = entry_of(nnl, items[1])  # Next
    now_first = entry_of(nnl, items[0])
    version = entry.version
    with CaptureQueriesContext(connection) as ctx:
        moved = services.move_entry(
            pm, entry=entry, expected_version=entry.version, column=Horizon.NOW, after=now_first
        )
    writes = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("UPDATE") and "roadmaps_entry" in q["sql"]
    ]
    assert len(writes) == 1
    assert moved.horizon == Horizon.NOW and moved.version == version + 1
    assert now_first.rank < moved.rank
    change = Change.objects.filter(roadmap=nnl).first()
    assert (change.kind, change.detail) == (ChangeKind.MOVED, "Next → Now")


def test_later_horizon_is_slipped(pm, nnl, items):
    entry = entry_of(nnl, items[1])
    services.move_entry(pm, entry=entry, expected_version=entry.version, column=Horizon.LATER)
    assert Change.objects.filter(roadmap=nnl).first().kind == ChangeKind.SLIPPED


def test_stale_move_conflicts_and_changes_nothing(pm, teammate, nnl, items):
    entry = entry_of(nnl, items[1])
    stale = Entry.objects.get(pk=entry.pk)
    services.update_entry(
        teammate, entry=entry, expected_version=entry.version, fields={"note": "theirs"}
    )
    with pytest.raises(VersionConflict):
        services.move_entry(pm, entry=stale, expected_version=stale.version, column=Horizon.LATER)
    fresh = Entry.objects.get(pk=entry.pk)
    assert (fresh.horizon, fresh.note, fresh.rank) == (Horizon.NEXT, "theirs", entry.rank)


def test_neighbour_from_another_roadmap_is_a_bad_move(workspace, product, pm, nnl, timeline, items):
    entry = entry_of(nnl, items[0])
    with pytest.raises(services.BadMove):
        services.move_entry(
            pm, entry=entry, expected_version=entry.version, after=entry_of(timeline, items[1])
        )


def test_reorder_within_a_column_by_keyboard(pm, nnl, items):
    later = list(nnl.entries.filter(horizon=Horizon.LATER).order_by("rank"))
    moved = services.move_entry_by(pm, entry=later[1], expected_version=later[1].version, steps=-1)
    order = list(
        nnl.entries.filter(horizon=Horizon.LATER).order_by("rank").values_list("pk", flat=True)
    )
    assert order == [moved.pk, later[0].pk]


def test_status_board_move_changes_the_item_status_with_its_version(workspace, product, pm, items):
    board = services.create_roadmap(
        pm, workspace=workspace, product=product, name="B", layout=Layout.STATUS
    )
    entry = services.add_entry(pm, roadmap=board, item=items[1])  # planned
    item = Item.objects.get(pk=items[1].pk)
    stale_version = item.version
    moved = services.move_entry(
        pm,
        entry=entry,
        expected_version=entry.version,
        column="in_progress",
        item_version=item.version,
    )
    assert Item.objects.get(pk=item.pk).status == "in_progress"
    # A stale board (old item version) overwrites nothing.
    with pytest.raises(VersionConflict):
        services.move_entry(
            pm,
            entry=moved,
            expected_version=moved.version,
            column="shipped",
            item_version=stale_version,
        )
    assert Item.objects.get(pk=item.pk).status == "in_progress"
    with pytest.raises(ValidationError):
        services.add_entry(pm, roadmap=board, title="A card")  # a board shows items


@pytest.mark.django_db(transaction=True)
def test_shipping_an_item_logs_shipped_on_its_roadmaps(workspace, product, pm, nnl, items):
    item = Item.objects.get(pk=items[1].pk)
    backlog_services.update_item(
        pm, item=item, expected_version=item.version, fields={"status": "shipped"}
    )
    change = Change.objects.filter(roadmap=nnl, kind=ChangeKind.SHIPPED).get()
    assert change.title == "SEPA debits"


def test_timeline_shift_and_slip(pm, timeline, items):
    entry = entry_of(timeline, items[0])
    moved = services.shift_entry(pm, entry=entry, expected_version=entry.version, months=1)
    assert (moved.start_date, moved.end_date) == (dt.date(2027, 2, 10), dt.date(2027, 4, 30))
    change = Change.objects.filter(roadmap=timeline).first()
    assert change.kind == ChangeKind.SLIPPED
    assert reads.change_detail(change) == "10 Jan 2027 – 31 Mar 2027 → 10 Feb 2027 – 30 Apr 2027"
    assert reads.change_detail(change, exact=False) == "Q1 2027 → Q1 2027 – Q2 2027"
    resized = services.shift_entry(pm, entry=moved, expected_version=moved.version, resize=-1)
    assert resized.end_date == dt.date(2027, 3, 31)
    earlier = services.shift_entry(pm, entry=resized, expected_version=resized.version, months=-1)
    assert Change.objects.filter(roadmap=timeline).first().kind == ChangeKind.MOVED
    assert earlier.start_date == dt.date(2027, 1, 10)


def test_end_before_start_is_refused(pm, timeline, items):
    entry = entry_of(timeline, items[0])
    with pytest.raises(ValidationError) as exc:
        services.update_entry(
            pm,
            entry=entry,
            expected_version=entry.version,
            fields={"end_date": dt.date(2026, 12, 1)},
        )
    assert "end_date" in exc.value.message_dict


def test_dependency_warning_when_blocker_ends_after_blocked_starts(pm, timeline, items):
    apple, sepa = entry_of(timeline, items[0]), entry_of(timeline, items[1])
    services.add_dependency(pm, blocker=apple, blocked=sepa)
    board = reads.load_board(timeline)
    assert len(board.warnings) == 1
    assert "ends 31 Mar 2027" in board.warnings[0]["warning"]
    with pytest.raises(ValidationError):
        services.add_dependency(pm, blocker=sepa, blocked=apple)  # a cycle
    sepa = services.update_entry(
        pm, entry=sepa, expected_version=sepa.version, fields={"start_date": dt.date(2027, 4, 1)}
    )
    assert reads.load_board(timeline).warnings == []


def test_investment_mix_against_target(pm, nnl, objective, other_objective):
    nnl.refresh_from_db()
    services.set_investment_target(
        pm,
        roadmap=nnl,
        expected_version=nnl.version,
        target={str(objective.pk): 70, str(other_objective.pk): 30},
    )
    board = reads.load_board(Roadmap.objects.get(pk=nnl.pk))
    rows = {row.objective.pk if row.objective else None: row for row in board.mix}
    # Apple Pay (effort 3) and SEPA (1) serve the objective; two entries serve none (1 + 1).
    assert rows[objective.pk].share == pytest.approx(66.7)
    assert rows[objective.pk].target == 70
    assert rows[other_objective.pk].share == 0 and rows[other_objective.pk].off_target
    assert rows[None].share == pytest.approx(33.3)
    assert len(board.unlinked) == 2
    with pytest.raises(ValidationError):
        fresh = Roadmap.objects.get(pk=nnl.pk)
        services.set_investment_target(
            pm, roadmap=fresh, expected_version=fresh.version, target={str(objective.pk): 50}
        )


def test_remove_logs_removed_with_a_copy(pm, nnl, items):
    entry = entry_of(nnl, items[2])
    services.remove_entry(pm, entry=entry, expected_version=entry.version)
    change = Change.objects.filter(roadmap=nnl).first()
    assert (change.kind, change.entry_id, change.tags) == (ChangeKind.REMOVED, None, ["secret"])


def test_share_link_token_is_random_and_stored_hashed(pm, teammate, admin_member, nnl):
    link, raw = services.create_share_link(pm, roadmap=nnl, label="Board")
    assert len(raw) >= 43  # 32 random bytes, base64: 256 bits
    assert link.token_hash == hash_token(raw) and raw not in link.token_hash
    assert not ShareLink.objects.filter(token_hash=raw).exists()
    _other, raw2 = services.create_share_link(admin_member, roadmap=nnl, label="Sales")
    assert raw2 != raw
    with pytest.raises(PermissionDenied):  # editors do not publish roadmaps
        services.create_share_link(teammate, roadmap=nnl, label="Mine")
    with pytest.raises(PermissionDenied):
        services.revoke_share_link(teammate, link=link)


def test_share_link_password_is_hashed_and_attempts_limited(pm, nnl):
    link, _raw = services.create_share_link(pm, roadmap=nnl, label="Board", password="open sesame")
    assert (
        link.password.startswith(("md5$", "pbkdf2", "argon2"))
        and "open sesame" not in link.password
    )
    for _ in range(services.PASSWORD_ATTEMPTS):
        assert not services.check_share_password(link, "wrong", client="10.0.0.1")
    with pytest.raises(services.TooManyAttempts):
        services.check_share_password(link, "open sesame", client="10.0.0.1")
    assert services.check_share_password(link, "open sesame", client="10.0.0.2")


def test_rotate_demo_link_revokes_the_previous_one(pm, nnl):
    first, _ = services.rotate_demo_link(pm, roadmap=nnl, label="Demo")
    second, _ = services.rotate_demo_link(pm, roadmap=nnl, label="Demo")
    first.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is None


def test_lanes_by_tag_product_and_custom(pm, workspace, product, nnl, items):
    from roadmaps.models import Lane

    nnl.lane_by = "tag"
    board = reads.load_board(nnl)
    assert [lane.label for lane in board.lanes] == ["secret", "Untagged"]
    other = ProductFactory(workspace=workspace, key="ANL", name="Analytics")
    portfolio = services.create_roadmap(
        pm,
        workspace=workspace,
        name="P",
        products=[product, other],
        layout=Layout.NOW_NEXT_LATER,
        lane_by="product",
    )
    services.add_entry(pm, roadmap=portfolio, item=items[0])
    services.add_entry(pm, roadmap=portfolio, item=make_item(other, pm, title="Dashboards"))
    lanes = reads.load_board(portfolio).lanes
    assert [(lane.label, sum(len(c.cards) for c in lane.columns)) for lane in lanes] == [
        ("Analytics", 1),
        ("Payments", 1),
    ]
    nnl.lane_by = "custom"
    nnl.save(update_fields=["lane_by"])
    growth = services.add_lane(pm, roadmap=nnl, name="Growth")
    entry = entry_of(nnl, items[1])
    moved = services.move_entry(
        pm, entry=entry, expected_version=entry.version, column="now", lane=growth
    )
    assert moved.lane_id == growth.pk
    board = reads.load_board(Roadmap.objects.get(pk=nnl.pk))
    assert [lane.label for lane in board.lanes] == ["Growth", "No lane"]
    assert [c.id for c in board.lanes[0].columns[0].cards] == [entry.pk]
    foreign = Lane.objects.create(roadmap=portfolio, name="Elsewhere")
    with pytest.raises(services.BadMove):
        services.move_entry(pm, entry=moved, expected_version=moved.version, lane=foreign)


def test_keyboard_move_goes_past_the_card_above_in_the_same_lane(pm, workspace, product):
    """Alt+Up moves a card above the one shown above it, not above an entry of
    another lane that happens to sit between them in the roadmap's order."""
    roadmap = services.create_roadmap(
        pm,
        workspace=workspace,
        product=product,
        name="Lanes",
        layout=Layout.NOW_NEXT_LATER,
        lane_by="custom",
    )
    one = services.add_lane(pm, roadmap=roadmap, name="One")
    two = services.add_lane(pm, roadmap=roadmap, name="Two")
    first = services.add_entry(pm, roadmap=roadmap, title="A", lane=one, horizon=Horizon.NOW)
    services.add_entry(pm, roadmap=roadmap, title="B", lane=two, horizon=Horizon.NOW)
    third = services.add_entry(pm, roadmap=roadmap, title="C", lane=one, horizon=Horizon.NOW)

    def lane_one_titles():
        board = reads.load_board(Roadmap.objects.get(pk=roadmap.pk))
        lane = next(la for la in board.lanes if la.lane_id == one.pk)
        return [c.title for c in lane.columns[0].cards]

    assert lane_one_titles() == ["A", "C"]
    third = Entry.objects.get(pk=third.pk)
    services.move_entry_by(pm, entry=third, expected_version=third.version, steps=-1)
    assert lane_one_titles() == ["C", "A"]
    first = Entry.objects.get(pk=first.pk)
    services.move_entry_by(pm, entry=first, expected_version=first.version, steps=-1)
    assert lane_one_titles() == ["A", "C"]
