"""Spec fixtures: an item serving an objective, and its spec made through
the services."""

import pytest

from specs import services
from tests.backlog.factories import make_item


@pytest.fixture
def item(product, pm, objective):
    return make_item(product, pm, title="One-click checkout", objectives=[objective])


@pytest.fixture
def spec(item, pm):
    return services.create_spec(
        pm,
        item=item,
        problem="Shoppers retype cards.",
        goals="- Pay in one tap",
        requirements="1. Save cards\n2. Recognise devices",
        acceptance_criteria="- One tap pays",
    )
