"""An existing database migrates forward across the move of the item history
from django-simple-history into the event log without losing a change.

The test unapplies the move (back to backlog 0007, where items still had
historical rows), writes items and their history with the models as they
were then, migrates forward and checks the events the backfill wrote: one
per historical row, with the person, the time and ``{field: [old, new]}``;
none for an item that already had events; ids below the log, so no
consumer or feed hands them out as news; and the item page's history and
customer demand read them. Runs on SQLite and on PostgreSQL (CI)."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from backlog import reads
from backlog.models import Item
from feedback.services.demand import _stored_customers
from pmhub.activity import visibility
from pmhub.activity.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("backlog", "0007_item_title_trigram_index"), ("activity", "0004_fewer_indexes")]
T = datetime(2025, 3, 2, 12, tzinfo=UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _seed_old(apps) -> dict:
    """Items and their historical rows as django-simple-history wrote them."""
    User = apps.get_model("accounts", "User")
    Workspace = apps.get_model("accounts", "Workspace")
    Product = apps.get_model("products", "Product")
    OldItem = apps.get_model("backlog", "Item")
    Historical = apps.get_model("backlog", "HistoricalItem")
    Event = apps.get_model("activity", "Event")

    ann = User.objects.create(username="ann", first_name="Ann", last_name="Lee")
    workspace = Workspace.objects.create(name="Old", slug="old")
    product = Product.objects.create(workspace=workspace, name="Payments", key="PAY")
    kept = OldItem.objects.create(
        product=product, number=1, key="PAY-1", title="Wallets", rank="a0", status="planned"
    )
    logged = OldItem.objects.create(
        product=product, number=3, key="PAY-3", title="Logged", rank="a1"
    )

    def history(item_id, key, when, kind, user=None, reason=None, **fields):
        values = {"title": "Wallets", "status": "idea", "demand": None, **fields}
        Historical.objects.create(
            id=item_id,
            history_relation_id=item_id,
            number=int(key.split("-")[1]),
            key=key,
            product_id=product.pk,
            history_date=when,
            history_type=kind,
            history_user=user,
            history_change_reason=reason,
            **values,
        )

    history(kept.pk, "PAY-1", T, "+", ann)
    history(kept.pk, "PAY-1", T.replace(hour=13), "~", ann, status="planned", title="Wallets")
    history(
        kept.pk,
        "PAY-1",
        T.replace(hour=14),
        "~",
        None,
        "Customer demand 12 from 3 customers",
        status="planned",
        demand=12.0,
    )
    # A deleted item: its history is all that is left of it.
    history(999, "PAY-2", T, "+", ann, title="Gone")
    history(999, "PAY-2", T.replace(day=3), "-", ann, title="Gone")
    # An item the event log already knows: left as it is.
    history(logged.pk, "PAY-3", T, "+", ann, title="Logged")
    Event.objects.create(
        workspace=workspace,
        actor_kind="system",
        verb="item.created",
        object_type="backlog.item",
        object_id=logged.pk,
        object_key="PAY-3",
    )
    return {"ann": ann.pk, "kept": kept.pk, "logged": logged.pk, "workspace": workspace.pk}


@pytest.fixture
def old_rows():
    try:
        executor = _migrate(BEFORE)
        yield _seed_old(executor.loader.project_state(BEFORE).apps)
    finally:
        _migrate(_latest())


def _events(object_id):
    return list(
        Event.objects.filter(object_type="backlog.item", object_id=object_id).order_by("id")
    )


def test_the_item_history_becomes_events_without_losing_a_change(old_rows):
    _migrate(_latest())
    assert "backlog_historicalitem" not in connection.introspection.table_names()

    created, status, demand = _events(old_rows["kept"])
    assert (created.verb, created.actor_kind, created.actor_user_id, created.actor_label) == (
        "item.created",
        "user",
        old_rows["ann"],
        "Ann Lee",
    )
    assert created.changes == {"status": [None, "idea"]} and created.created_at == T
    assert (created.object_key, created.object_title) == ("PAY-1", "Wallets")
    assert status.verb == "item.status_changed"
    assert status.changes == {"status": ["idea", "planned"]}
    assert (demand.verb, demand.actor_kind, demand.actor_label) == (
        "item.updated",
        "system",
        "PMHub",
    )
    assert demand.changes == {"demand": [None, 12.0], "demand_customers": [None, 3]}

    assert [e.verb for e in _events(999)] == ["item.created", "item.deleted"]
    assert [e.verb for e in _events(old_rows["logged"])] == ["item.created"]  # untouched

    # Below the log: no consumer cursor or feed position, all past (0, 0), reaches them.
    backfilled = Event.objects.filter(id__lt=0)
    assert backfilled.count() == 5
    assert not visibility.visible_after(backfilled, (0, 0)).exists()
    if connection.vendor == "postgresql":
        assert set(backfilled.values_list("txid", flat=True)) == {0}

    # The item's page and customer demand read them.
    item = Item.objects.get(pk=old_rows["kept"])
    changes = reads.item_changes(item)
    assert [c["event"].verb for c in changes] == [
        "item.updated",
        "item.status_changed",
        "item.created",
    ]
    assert [(line.label, line.old, line.new) for line in changes[1]["lines"]] == [
        ("Status", "Idea", "Planned")
    ]
    assert _stored_customers(item.pk, old_rows["workspace"]) == 3
