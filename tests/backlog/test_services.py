"""Item services: keys, status rules, parents, owners, custom fields, versions,
rescoring on input changes, history and bulk edits."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from backlog import services
from backlog.models import FieldKind, Item, ScoreChange, ScoringKind, Status
from pmhub.activity.models import Event
from pmhub.errors import VersionConflict
from tests.factories import ObjectiveFactory, ProductFactory

RICE_INPUTS = {"reach": 100, "impact": 2, "confidence": 50, "effort": 2}  # score 50


def create(actor, product, title="Item", **fields):
    return services.create_item(actor, product=product, title=title, **fields)


def update(actor, item, expected_version=None, **fields):
    return services.update_item(actor, item=item, expected_version=expected_version, fields=fields)


def reload(item) -> Item:
    return Item.objects.select_related("product__workspace").get(pk=item.pk)


def history(item) -> list[Event]:
    """The item's history: its events, oldest first."""
    return list(Event.objects.filter(object_type="backlog.item", object_id=item.pk).order_by("id"))


# --- keys ----------------------------------------------------------------------------------------


def test_keys_count_up_per_product(pm, product, workspace):
    assert [create(pm, product).key for _ in range(3)] == ["PAY-1", "PAY-2", "PAY-3"]
    other = ProductFactory(workspace=workspace, name="Ops", key="OPS")
    assert create(pm, other).key == "OPS-1"


def test_keys_are_never_reused_after_delete(pm, product):
    first, second = create(pm, product), create(pm, product)
    services.delete_item(pm, item=second)
    services.delete_item(pm, item=first)
    assert create(pm, product).key == "PAY-3"
    assert not Item.objects.filter(key__in=["PAY-1", "PAY-2"]).exists()


def test_deleting_a_parent_gives_its_children_a_new_version(pm, product):
    epic = create(pm, product, title="Epic", type="epic")
    child = update(pm, create(pm, product, title="Child"), parent=epic)
    child = reload(child)
    services.delete_item(pm, item=epic)
    after = reload(child)
    assert after.parent is None
    assert after.version == child.version + 1  # ETags and updated_since see the change
    assert after.updated_at > child.updated_at
    (last,) = history(after)[-1:]
    assert (last.verb, last.changes) == ("item.updated", {"parent": [epic.pk, None]})


def test_viewer_and_stranger_cannot_create(viewer, stranger, product):
    for user in (viewer, stranger):
        with pytest.raises(PermissionDenied):
            create(user, product)
    assert not Item.objects.exists()


def test_delete_with_stale_version_conflicts(pm, product):
    item = create(pm, product)
    update(pm, item, title="Renamed")
    with pytest.raises(VersionConflict):
        services.delete_item(pm, item=item, expected_version=1)
    assert Item.objects.filter(pk=item.pk).exists()


# --- status --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.DECLINED, Status.ARCHIVED])
def test_declined_or_archived_needs_a_reason(pm, product, status):
    with pytest.raises(ValidationError) as caught:
        create(pm, product, status=status)
    assert "status_reason" in caught.value.message_dict
    item = create(pm, product)
    for reason in ("", "   "):
        with pytest.raises(ValidationError):
            update(pm, item, status=status, status_reason=reason)
    assert reload(item).status == Status.IDEA
    update(pm, item, status=status, status_reason="Out of scope")
    item = reload(item)
    assert (item.status, item.status_reason) == (status, "Out of scope")


def test_reopening_clears_the_reason(pm, product):
    item = create(pm, product, status=Status.DECLINED, status_reason="Not now")
    update(pm, item, status=Status.CANDIDATE)
    assert reload(item).status_reason == ""


def test_shipping_stamps_shipped_at(pm, product):
    item = create(pm, product)
    update(pm, item, status=Status.SHIPPED)
    assert reload(item).shipped_at is not None


# --- parents -------------------------------------------------------------------------------------


def test_parent_cycles_are_refused(pm, product):
    epic = create(pm, product, title="Epic", type="epic")
    child = create(pm, product, title="Child")
    grandchild = create(pm, product, title="Grandchild")
    update(pm, child, parent=epic)
    update(pm, grandchild, parent=reload(child))
    for item, parent in [(epic, child), (epic, grandchild), (child, grandchild), (child, child)]:
        with pytest.raises(ValidationError) as caught:
            update(pm, reload(item), parent=reload(parent))
        assert "parent" in caught.value.message_dict
    assert reload(epic).parent_id is None
    assert reload(child).parent_id == epic.pk


def test_parent_in_another_product_is_refused(pm, product, workspace):
    other = ProductFactory(workspace=workspace, name="Ops", key="OPS")
    foreign = create(pm, other)
    with pytest.raises(ValidationError):
        create(pm, product, parent=foreign)
    item = create(pm, product)
    with pytest.raises(ValidationError):
        update(pm, item, parent=foreign)
    assert reload(item).parent_id is None


# --- owner ---------------------------------------------------------------------------------------


def test_owner_must_be_a_member(pm, teammate, viewer, stranger, product):
    with pytest.raises(ValidationError) as caught:
        create(pm, product, owner=stranger)
    assert "owner" in caught.value.message_dict
    item = create(pm, product, owner=teammate)
    with pytest.raises(ValidationError):
        update(pm, item, owner=stranger)
    update(pm, item, owner=viewer)  # any member may own an item
    assert reload(item).owner == viewer


# --- custom fields -------------------------------------------------------------------------------


@pytest.fixture
def fields(pm, product):
    return {
        "number": services.create_custom_field(
            pm, product=product, name="Revenue", kind=FieldKind.NUMBER, min_value=0, max_value=100
        ),
        "select": services.create_custom_field(
            pm,
            product=product,
            name="Segment",
            kind=FieldKind.SELECT,
            options=["SMB", "Enterprise"],
        ),
        "date": services.create_custom_field(pm, product=product, name="Due", kind=FieldKind.DATE),
        "text": services.create_custom_field(
            pm, product=product, name="Notes", kind=FieldKind.TEXT
        ),
    }


def test_custom_values_are_stored_normalized(pm, product, fields):
    item = create(
        pm,
        product,
        custom={
            fields["number"].pk: "42.5",
            str(fields["select"].pk): "Enterprise",
            fields["date"].pk: "20270105",
            fields["text"].pk: "Big deal",
        },
    )
    assert reload(item).custom == {
        str(fields["number"].pk): 42.5,
        str(fields["select"].pk): "Enterprise",
        str(fields["date"].pk): "2027-01-05",
        str(fields["text"].pk): "Big deal",
    }
    update(pm, reload(item), custom={fields["number"].pk: 7, fields["select"].pk: ""})
    assert reload(item).custom == {str(fields["number"].pk): 7.0}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("number", "101"),
        ("number", "-1"),
        ("number", "lots"),
        ("number", "nan"),
        ("number", "inf"),
        ("select", "Startup"),
        ("date", "2027-13-01"),
        ("date", "next week"),
        ("text", "x" * 501),
    ],
)
def test_bad_custom_values_are_refused(pm, product, fields, field, value):
    with pytest.raises(ValidationError) as caught:
        create(pm, product, custom={fields[field].pk: value})
    assert f"custom.{fields[field].name}" in caught.value.message_dict
    item = create(pm, product)
    with pytest.raises(ValidationError):
        update(pm, item, custom={fields[field].pk: value})
    assert reload(item).custom == {}


def test_unknown_custom_field_is_refused(pm, product, workspace, fields):
    other = ProductFactory(workspace=workspace, name="Ops", key="OPS")
    foreign = services.create_custom_field(pm, product=other, name="Revenue", kind=FieldKind.NUMBER)
    for key in (999_999, foreign.pk):
        with pytest.raises(ValidationError) as caught:
            create(pm, product, custom={key: 1})
        assert f"custom.{key}" in caught.value.message_dict


# --- versions ------------------------------------------------------------------------------------


def test_stale_version_conflicts_and_changes_nothing(pm, teammate, product, objective):
    item = create(pm, product, title="Original", **RICE_INPUTS)
    stale = reload(item)
    update(teammate, reload(item), expected_version=1, title="Theirs")
    history_before = len(history(item))
    changes_before = ScoreChange.objects.count()
    with pytest.raises(VersionConflict) as caught:
        update(
            pm,
            stale,
            expected_version=1,
            title="Mine",
            effort=10,
            tags=["api"],
            objectives=[objective],
        )
    assert caught.value.current.version == 2
    item = reload(item)
    assert (item.title, item.version, item.effort, item.score) == ("Theirs", 2, 2, 50)
    assert list(item.tags.all()) == [] and list(item.objectives.all()) == []
    assert len(history(item)) == history_before
    assert ScoreChange.objects.count() == changes_before


def test_stale_version_conflicts_for_relations_only(pm, product):
    item = create(pm, product)
    stale = reload(item)
    update(pm, reload(item), title="Newer")
    with pytest.raises(VersionConflict):
        update(pm, stale, expected_version=1, tags=["api"])
    assert not reload(item).tags.exists()


def test_update_bumps_version(pm, product):
    item = create(pm, product)
    item = update(pm, item, expected_version=1, title="Two")
    assert item.version == 2 == reload(item).version


# --- scoring on input changes --------------------------------------------------------------------


def test_new_item_is_scored_with_the_active_model(pm, product):
    item = reload(create(pm, product, **RICE_INPUTS))
    assert item.score == pytest.approx(50)
    change = item.score_changes.get()
    assert (change.cause, change.old_score, change.new_score) == ("created", None, item.score)


def test_input_change_rescores_at_once_with_a_score_change(pm, product):
    item = create(pm, product, **RICE_INPUTS)
    update(pm, item, effort=4)
    item = reload(item)
    assert item.score == pytest.approx(25)
    change = item.score_changes.filter(cause=ScoreChange.Cause.INPUT).get()
    assert (change.old_score, change.new_score) == (pytest.approx(50), pytest.approx(25))
    assert change.actor == pm
    assert "Effort" in change.detail


def test_unchanged_score_writes_no_score_change(pm, product):
    item = create(pm, product, **RICE_INPUTS)
    update(pm, item, title="Renamed")
    update(pm, reload(item), ease=5)  # not a RICE input: same score
    assert not reload(item).score_changes.filter(cause=ScoreChange.Cause.INPUT).exists()


def test_missing_input_means_no_score_not_zero(pm, product):
    item = reload(create(pm, product, reach=100, impact=2, confidence=50))
    assert item.score is None
    assert not item.score_changes.exists()  # None → None is no change
    update(pm, item, effort=2)
    assert reload(item).score == pytest.approx(50)
    update(pm, reload(item), effort=None)
    item = reload(item)
    assert item.score is None
    latest = item.score_changes.first()
    assert (latest.cause, latest.new_score) == ("input", None)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("effort", 0),
        ("effort", -1),
        ("confidence", 101),
        ("impact", -0.5),
        ("job_size", 0),
        ("reach", "many"),
    ],
)
def test_out_of_range_inputs_are_refused(pm, product, name, value):
    with pytest.raises(ValidationError) as caught:
        create(pm, product, **{name: value})
    assert name in caught.value.message_dict
    item = create(pm, product, **RICE_INPUTS)
    with pytest.raises(ValidationError):
        update(pm, item, **{name: value})
    assert reload(item).score == pytest.approx(50)


# --- history -------------------------------------------------------------------------------------


def test_each_update_adds_an_event_with_old_and_new_values(pm, teammate, product):
    """The item history is the event log (one history, not two)."""
    item = create(pm, product, title="First", **RICE_INPUTS)
    assert [e.verb for e in history(item)] == ["item.created"]
    update(pm, reload(item), title="Second")
    update(teammate, reload(item), effort=4, status=Status.CANDIDATE)
    events = history(item)
    assert [e.verb for e in events] == ["item.created", "item.updated", "item.status_changed"]
    assert [e.actor_user for e in events] == [pm, pm, teammate]
    assert events[1].changes == {"title": ["First", "Second"]}
    assert events[2].changes == {"effort": [2, 4], "status": ["idea", "candidate"]}
    assert [e.version for e in events] == [1, 2, 3]


def test_history_leaves_out_score_rank_and_version(pm, product):
    item = create(pm, product, **RICE_INPUTS)
    update(pm, reload(item), effort=4)
    assert history(item)[-1].changes == {"effort": [2, 4]}


def test_tag_and_objective_changes_are_recorded_with_old_and_new(pm, product, objective):
    item = create(pm, product, tags=["ux"])
    update(pm, reload(item), tags=["api", "UX", "mobile"], objectives=[objective])
    item = reload(item)
    assert sorted(t.name for t in item.tags.all()) == ["api", "mobile", "ux"]
    assert list(item.objectives.all()) == [objective]
    assert history(item)[-1].changes == {
        "tags": [["ux"], ["api", "mobile", "ux"]],
        "objectives": [[], [objective.pk]],
    }
    update(pm, reload(item), tags=["api"], objectives=[])
    assert history(item)[-1].changes == {
        "tags": [["api", "mobile", "ux"], ["api"]],
        "objectives": [[objective.pk], []],
    }


def test_objectives_must_belong_to_the_product(pm, product, workspace):
    other = ProductFactory(workspace=workspace, name="Ops", key="OPS")
    foreign = ObjectiveFactory(product=other)
    with pytest.raises(ValidationError):
        create(pm, product, objectives=[foreign])
    item = create(pm, product)
    with pytest.raises(ValidationError):
        update(pm, item, objectives=[foreign])


# --- bulk edit -----------------------------------------------------------------------------------


def test_bulk_update_changes_many_items_with_one_event_each(pm, teammate, product, objective):
    items = [create(pm, product, title=f"Item {n}", tags=["old"]) for n in range(3)]
    untouched = create(pm, product, title="Untouched")
    ids = [i.pk for i in items]
    count = services.bulk_update_items(
        pm,
        product=product,
        item_ids=ids,
        status=Status.PLANNED,
        owner=teammate,
        add_tags=["Q3", "api"],
        remove_tags=["old"],
        add_objective=objective,
    )
    assert count == 3
    for item in Item.objects.filter(pk__in=ids):
        assert (item.status, item.owner, item.version) == (Status.PLANNED, teammate, 2)
        assert sorted(t.name for t in item.tags.all()) == ["api", "q3"]
        assert list(item.objectives.all()) == [objective]
        _, edited = history(item)
        assert (edited.verb, edited.actor_user) == ("item.status_changed", pm)
        assert edited.changes == {
            "status": ["idea", "planned"],
            "owner": [None, teammate.pk],
            "tags_added": [None, ["api", "q3"]],
            "tags_removed": [None, ["old"]],
            "objective_added": [None, objective.pk],
        }
    untouched = reload(untouched)
    assert (untouched.status, untouched.owner, untouched.version) == (Status.IDEA, None, 1)
    assert len(history(untouched)) == 1


def test_bulk_update_tags_only_still_versions_and_records(pm, product):
    items = [create(pm, product, title=f"Item {n}") for n in range(2)]
    services.bulk_update_items(pm, product=product, item_ids=[i.pk for i in items], add_tags=["x"])
    for item in items:
        item = reload(item)
        assert item.version == 2 and [t.name for t in item.tags.all()] == ["x"]
        assert len(history(item)) == 2


def test_bulk_shipping_stamps_the_launch_as_a_single_edit_does(pm, product):
    single, bulk = create(pm, product, title="Single"), create(pm, product, title="Bulk")
    for item in (single, bulk):
        update(pm, item, status=Status.SHIPPED)
        Item.objects.filter(pk=item.pk).update(shipped_at=timezone.now() - dt.timedelta(days=30))
        update(pm, reload(item), status=Status.PLANNED)  # reopened, then shipped again:
    update(pm, reload(single), status=Status.SHIPPED)
    services.bulk_update_items(pm, product=product, item_ids=[bulk.pk], status=Status.SHIPPED)
    recent = timezone.now() - dt.timedelta(minutes=1)
    assert reload(single).shipped_at > recent
    assert reload(bulk).shipped_at > recent


def test_bulk_update_rules(pm, viewer, stranger, product, workspace):
    item = create(pm, product)
    with pytest.raises(ValidationError):
        services.bulk_update_items(pm, product=product, item_ids=[item.pk], status=Status.DECLINED)
    with pytest.raises(ValidationError):
        services.bulk_update_items(pm, product=product, item_ids=[item.pk], owner=stranger)
    with pytest.raises(ValidationError):
        services.bulk_update_items(pm, product=product, item_ids=[item.pk], status="bogus")
    other = ProductFactory(workspace=workspace, name="Ops", key="OPS")
    foreign = create(pm, other)
    with pytest.raises(ValidationError):  # ids of another product are ignored: nothing selected
        services.bulk_update_items(
            pm, product=product, item_ids=[foreign.pk], status=Status.PLANNED
        )
    with pytest.raises(PermissionDenied):
        services.bulk_update_items(
            viewer, product=product, item_ids=[item.pk], status=Status.PLANNED
        )
    services.bulk_update_items(
        pm, product=product, item_ids=[item.pk], status=Status.DECLINED, status_reason="Duplicate"
    )
    item = reload(item)
    assert (item.status, item.status_reason) == (Status.DECLINED, "Duplicate")
    assert reload(foreign).status == Status.IDEA


# --- demand --------------------------------------------------------------------------------------


def test_set_item_demand_rescores_with_cause_demand(pm, product):
    model = services.create_scoring_model(
        pm,
        product=product,
        name="Demand-led",
        kind=ScoringKind.WEIGHTED,
        criteria=[
            {"name": "Value", "source": "value", "weight": 1, "min": 0, "max": 10},
            {"name": "Demand", "source": "demand", "weight": 3, "min": 0, "max": 1000},
        ],
    )
    services.activate_scoring_model(pm, product=product, model=model)
    item = create(pm, product, value=5)
    # Nobody asked yet: demand counts as 0, so the item is scored from the start.
    assert reload(item).score == pytest.approx(12.5)  # 100 × (1 × 0.5 + 3 × 0) ÷ 4
    changes = reload(item).score_changes.count()
    services.set_item_demand(item_id=item.pk, demand=500, detail="12 requests, $40k ARR")
    item = reload(item)
    assert item.demand == 500
    assert item.score == pytest.approx(50)  # 100 × (1 × 0.5 + 3 × 0.5) ÷ 4
    change = item.score_changes.first()
    assert (change.cause, change.old_score, change.new_score) == ("demand", 12.5, item.score)
    assert change.detail == "12 requests, $40k ARR"
    assert item.version == 2

    services.set_item_demand(item_id=item.pk, demand=500, detail="same")  # no change, no row
    assert reload(item).score_changes.count() == changes + 1


def test_set_item_demand_is_recorded_in_history(pm, product):
    item = create(pm, product)
    services.set_item_demand(item_id=item.pk, demand=120, detail="Feedback", customers=3)
    events = history(item)
    assert len(events) == 2
    assert events[1].changes == {"demand": [None, 120], "demand_customers": [None, 3]}


def test_demand_change_without_a_demand_criterion_writes_no_score_change(pm, product):
    item = create(pm, product, **RICE_INPUTS)
    services.set_item_demand(item_id=item.pk, demand=10, detail="x")
    item = reload(item)
    assert item.demand == 10 and item.score == pytest.approx(50)
    assert not item.score_changes.filter(cause="demand").exists()


# --- saved views ---------------------------------------------------------------------------------


def test_saved_views_are_shared_so_only_editors_save_or_delete_them(pm, teammate, viewer, product):
    services.save_view(pm, product=product, name="Growth", query="tag=growth")
    with pytest.raises(PermissionDenied):
        services.save_view(viewer, product=product, name="Growth", query="tag=other")
    with pytest.raises(PermissionDenied):
        services.save_view(viewer, product=product, name="Mine", query="tag=x")
    with pytest.raises(PermissionDenied):
        services.delete_view(viewer, view=product.saved_views.get())
    view = product.saved_views.get()
    assert (view.query, view.created_by) == ("tag=growth", pm)
    services.save_view(teammate, product=product, name="Growth", query="tag=q1")
    assert product.saved_views.get().query == "tag=q1"
    services.delete_view(teammate, view=product.saved_views.get())
    assert not product.saved_views.exists()
