"""Fixtures shared by the backlog's test modules."""

import pytest

from backlog.models import BacklogSettings
from tests.factories import ProductFactory

from .factories import make_item, make_rice_item


@pytest.fixture
def items(product, pm):
    """Three items in PAY's backlog, in this order: a scored feature, an
    unscored bug, a scored experiment."""
    first = make_rice_item(product, pm, title="One-click checkout", reach=1000, impact=2)
    second = make_item(product, pm, title="Refund crash", type="bug")
    third = make_rice_item(product, pm, title="Apple Pay test", type="experiment", reach=10)
    return [first, second, third]


@pytest.fixture
def other_product(workspace):
    return ProductFactory(workspace=workspace, name="Billing", key="BILL")


@pytest.fixture
def strangers_item(stranger):
    product = ProductFactory(workspace=stranger.memberships.get().workspace, key="OTH")
    return make_item(product, stranger, title="Secret plan")


@pytest.fixture
def rice(product):
    """The RICE model every product scores with from its creation on."""
    return BacklogSettings.objects.of(product).active_model
