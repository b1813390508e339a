"""An existing database migrates forward across the move of post-launch
metrics from products/ to metrics/ without losing a row.

The test unapplies the move (back to the migrations before it), seeds rows
with the models as they were then (metrics of products/, a key result's
``metric`` column, hypotheses, a shipped item), migrates forward to the
latest state and checks every row, every relation, the constraints on the
renamed tables, and that the database-specific writes (``ON CONFLICT``
ingestion, ``SKIP LOCKED`` rollup claims, upserts) still work on them.
Runs on SQLite and on PostgreSQL (CI)."""

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from backlog.models import Hypothesis
from metrics import reads
from metrics import services as metrics
from metrics.models import (
    ChartMarker,
    Datapoint,
    DirtyDay,
    KeyResultLink,
    Metric,
    MetricRollup,
)
from products.models import KeyResult

pytestmark = pytest.mark.django_db(transaction=True)

MOVED = {  # model -> the table it had in products/
    Metric: "products_metric",
    Datapoint: "products_datapoint",
    MetricRollup: "products_metricrollup",
    DirtyDay: "products_dirtyday",
}
T = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _before_the_move(executor) -> list[tuple[str, str | None]]:
    """The migration targets just before the move: products' last migration
    with metric models, backlog's migration before the one that points
    hypotheses at metrics/, and no metrics/ migration at all."""
    graph = executor.loader.graph
    (backlog_move,) = [
        key for key in graph.nodes if key[0] == "backlog" and key[1].endswith("_metrics_app")
    ]
    (backlog_parent,) = [p for p in graph.node_map[backlog_move].parents if p.key[0] == "backlog"]
    return [("products", "0002_metrics"), backlog_parent.key, ("metrics", None)]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _seed_old(apps) -> dict:
    """Rows written with the models as they were before the move."""
    Workspace = apps.get_model("accounts", "Workspace")
    Product = apps.get_model("products", "Product")
    Objective = apps.get_model("products", "Objective")
    OldKeyResult = apps.get_model("products", "KeyResult")
    OldMetric = apps.get_model("products", "Metric")
    OldDatapoint = apps.get_model("products", "Datapoint")
    OldRollup = apps.get_model("products", "MetricRollup")
    OldDirtyDay = apps.get_model("products", "DirtyDay")
    Item = apps.get_model("backlog", "Item")
    OldHypothesis = apps.get_model("backlog", "Hypothesis")

    workspace = Workspace.objects.create(name="Old", slug="old")
    product = Product.objects.create(workspace=workspace, name="Payments", key="PAY")
    objective = Objective.objects.create(product=product, title="Convert")
    conversion = OldMetric.objects.create(
        product=product, name="Conversion", unit="%", aggregation="average", target=80
    )
    adoption = OldMetric.objects.create(product=product, name="Saved cards", aggregation="sum")
    points = [
        OldDatapoint(metric=conversion, timestamp=T, value=70.0),
        OldDatapoint(metric=conversion, timestamp=T.replace(hour=13), value=72.0, dedupe_key="a"),
        OldDatapoint(metric=adoption, timestamp=T, value=5.0),
    ]
    OldDatapoint.objects.bulk_create(points)
    OldRollup.objects.create(
        metric=conversion,
        period="day",
        start=T.date(),
        total=142.0,
        count=2,
        minimum=70.0,
        maximum=72.0,
        last=72.0,
        last_at=T.replace(hour=13),
    )
    OldDirtyDay.objects.create(metric=adoption, day=T.date())
    follows = OldKeyResult.objects.create(
        objective=objective,
        name="Conversion 80 %",
        start_value=70,
        target_value=80,
        current_value=71,
        metric=conversion,
        metric_since=date(2026, 3, 1),
    )
    only_since = OldKeyResult.objects.create(
        objective=objective, name="Was linked", target_value=5, metric_since=date(2026, 1, 1)
    )
    manual = OldKeyResult.objects.create(objective=objective, name="By hand", target_value=9)
    shipped = Item.objects.create(
        product=product,
        number=1,
        key="PAY-1",
        title="Save cards",
        rank="a0",
        status="shipped",
        shipped_at=datetime(2026, 2, 20, 23, 30, tzinfo=UTC),
    )
    planned = Item.objects.create(
        product=product, number=2, key="PAY-2", title="Google Pay", rank="a1", status="planned"
    )
    OldHypothesis.objects.create(
        item=shipped, metric=conversion, adoption_metric=adoption, expected_change=5
    )
    OldHypothesis.objects.create(item=planned, metric=conversion, expected_change=2)
    return {
        "product": product.pk,
        "conversion": conversion.pk,
        "adoption": adoption.pk,
        "points": sorted(
            OldDatapoint.objects.values_list("id", "metric_id", "timestamp", "value", "dedupe_key")
        ),
        "follows": follows.pk,
        "only_since": only_since.pk,
        "manual": manual.pk,
        "shipped": shipped.pk,
        "planned": planned.pk,
    }


@pytest.fixture
def old_rows():
    """A database at the state before the move, seeded; migrated back to the
    latest state afterwards whatever happens."""
    try:
        targets = _before_the_move(MigrationExecutor(connection))
        executor = _migrate(targets)
        state = executor.loader.project_state([t for t in targets if t[1] is not None])
        yield _seed_old(state.apps)
    finally:
        _migrate(_latest())


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


def test_the_moved_tables_keep_every_row_and_relation(old_rows):
    assert set(MOVED.values()) <= _tables()
    _migrate(_latest())

    # The tables carry this app's names now; products' are gone.
    assert {m._meta.db_table for m in MOVED} <= _tables()
    assert not set(MOVED.values()) & _tables()

    conversion = Metric.objects.get(pk=old_rows["conversion"])
    assert (conversion.name, conversion.unit, conversion.aggregation, conversion.target) == (
        "Conversion",
        "%",
        "average",
        80,
    )
    assert conversion.product_id == old_rows["product"]
    assert (
        sorted(Datapoint.objects.values_list("id", "metric_id", "timestamp", "value", "dedupe_key"))
        == old_rows["points"]
    )
    rollup = MetricRollup.objects.get()
    assert (rollup.metric_id, rollup.total, rollup.count, rollup.last) == (
        conversion.pk,
        142,
        2,
        72,
    )
    assert DirtyDay.objects.get().metric_id == old_rows["adoption"]

    # The key result's link moved downstream, value and period intact.
    link = KeyResultLink.objects.get(key_result_id=old_rows["follows"])
    assert (link.metric_id, link.since) == (conversion.pk, date(2026, 3, 1))
    assert KeyResult.objects.get(pk=old_rows["follows"]).current_value == 71
    only_since = KeyResultLink.objects.get(key_result_id=old_rows["only_since"])
    assert (only_since.metric_id, only_since.since) == (None, date(2026, 1, 1))
    assert not KeyResultLink.objects.filter(key_result_id=old_rows["manual"]).exists()

    # Hypotheses name the same metrics, now metrics.Metric.
    shipped = Hypothesis.objects.select_related("metric", "adoption_metric").get(
        item_id=old_rows["shipped"]
    )
    assert (shipped.metric.name, shipped.adoption_metric.name) == ("Conversion", "Saved cards")

    # The shipped item's launch is on both metrics' charts; the planned one is not.
    markers = reads.markers_for([conversion.pk, old_rows["adoption"]])
    expected = {
        "date": date(2026, 2, 20),
        "label": "PAY-1 Save cards",
        "url": "/w/old/p/PAY/backlog/items/1/launch/",
    }
    assert markers == {conversion.pk: [expected], old_rows["adoption"]: [expected]}
    assert set(ChartMarker.objects.values_list("source", flat=True)) == {
        f"item:{old_rows['shipped']}"
    }


def test_the_renamed_tables_keep_their_constraints_and_database_writes_work(
    old_rows, django_user_model, monkeypatch
):
    _migrate(_latest())
    monkeypatch.setattr(metrics.ingest, "_enqueue_rollup", lambda metric_id: None)
    with connection.cursor() as cursor:
        for model in MOVED:
            found = connection.introspection.get_constraints(cursor, model._meta.db_table)
            declared = {c.name for c in model._meta.constraints}
            assert declared <= set(found), model
            foreign = [c for c in found.values() if c["foreign_key"]]
            if model is not Metric:
                assert foreign and foreign[0]["foreign_key"][0] == Metric._meta.db_table
    # Foreign keys still reference the renamed metric table.
    with pytest.raises(IntegrityError), transaction.atomic():
        Datapoint.objects.create(metric_id=10**9, timestamp=T, value=1)

    from pmhub.accounts.models import Membership, Role

    conversion = Metric.objects.get(pk=old_rows["conversion"])
    user = django_user_model.objects.create_user("pm")
    Membership.objects.create(workspace=conversion.product.workspace, user=user, role=Role.EDITOR)
    # ON CONFLICT / INSERT OR IGNORE on the renamed table: a re-sent row is skipped.
    again = metrics.ingest_datapoints(
        user,
        metric=conversion,
        rows=[
            {"timestamp": T.isoformat(), "value": 70.0},
            {"timestamp": "2026-03-03T09:00:00Z", "value": 74.0},
        ],
    )
    assert (again.created, again.duplicates) == (1, 1)
    # SKIP LOCKED claims and upserts on the renamed tables.
    assert metrics.process_dirty() == 2
    assert not DirtyDay.objects.exists()
    days = dict(
        MetricRollup.objects.filter(metric=conversion, period="day").values_list("start", "count")
    )
    assert days == {date(2026, 3, 2): 2, date(2026, 3, 3): 1}
    # The key result that followed the metric follows it still: average since March 1.
    assert KeyResult.objects.get(pk=old_rows["follows"]).current_value == 72
    # Deleting the metric unlinks (keeps) its key results and hypotheses.
    metrics.delete_metric(user, metric=conversion)
    assert KeyResultLink.objects.get(key_result_id=old_rows["follows"]).metric_id is None
    assert Hypothesis.objects.get(item_id=old_rows["planned"]).metric_id is None
    assert not Datapoint.objects.filter(metric_id=old_rows["conversion"]).exists()
