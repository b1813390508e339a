"""Backlog settings and the default scoring model are made with the product
(so that reading a backlog never writes), and migration 0004 made them for
the products that existed before."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from backlog import services
from backlog.models import BacklogSettings, ScoringKind, ScoringModel
from products import services as product_services
from tests.factories import ProductFactory


def test_a_new_product_has_its_backlog_scoring_with_rice(pm, workspace):
    product = product_services.create_product(pm, workspace=workspace, name="Ops", key="OPS")

    settings_row = BacklogSettings.objects.of(product)
    assert settings_row.active_model.name == "RICE"
    assert settings_row.active_model.kind == ScoringKind.RICE
    assert settings_row.last_item_number == 0
    assert list(ScoringModel.objects.filter(product=product)) == [settings_row.active_model]


def test_a_product_made_any_other_way_has_one_too(workspace):
    product = ProductFactory(workspace=workspace, key="ANY")

    assert BacklogSettings.objects.of(product).active_model.kind == ScoringKind.RICE


def test_create_backlog_is_idempotent(product):
    first = BacklogSettings.objects.of(product)

    again = services.create_backlog(product=product)

    assert again.pk == first.pk
    assert again.active_model_id == first.active_model_id
    assert ScoringModel.objects.filter(product=product).count() == 1


def test_create_backlog_gives_settings_without_a_model_the_rice_one(product):
    BacklogSettings.objects.filter(product=product).update(active_model=None)

    settings_row = services.create_backlog(product=product)

    assert settings_row.active_model == ScoringModel.objects.get(product=product, name="RICE")


@pytest.mark.django_db(transaction=True)
def test_migration_0004_gives_existing_products_their_backlog(workspace):
    before = [("backlog", "0003_scoringmodel_reach_from_demand")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Product = old.get_model("products", "Product")
    OldSettings = old.get_model("backlog", "BacklogSettings")
    OldModel = old.get_model("backlog", "ScoringModel")
    bare = Product.objects.create(workspace_id=workspace.pk, name="Old", key="OLD")
    # A product whose backlog was read once before: settings and its own models kept.
    read = Product.objects.create(workspace_id=workspace.pk, name="Read", key="READ")
    ice = OldModel.objects.create(product=read, name="ICE", kind="ice")
    OldSettings.objects.create(product=read, active_model=ice, last_item_number=7)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # 0004 and whatever follows it

    made = BacklogSettings.objects.select_related("active_model").get(product_id=bare.pk)
    assert (made.active_model.name, made.active_model.kind, made.last_item_number) == (
        "RICE",
        "rice",
        0,
    )
    kept = BacklogSettings.objects.get(product_id=read.pk)
    assert (kept.active_model_id, kept.last_item_number) == (ice.pk, 7)
    assert not ScoringModel.objects.filter(product_id=read.pk, name="RICE").exists()
