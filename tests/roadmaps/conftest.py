"""Roadmap fixtures: a product backlog with objectives, a Now/Next/Later
roadmap and a timeline made through the services, and share links."""

import datetime as dt

import pytest

from roadmaps import services
from roadmaps.models import Commitment, Horizon, Layout
from tests.backlog.factories import make_item
from tests.factories import ObjectiveFactory


@pytest.fixture
def items(product, pm, objective):
    """Four items: two serving ``objective``, one tagged secret, one plain."""
    return [
        make_item(
            product,
            pm,
            title="Apple Pay",
            status="in_progress",
            objectives=[objective],
            effort=3,
            reach=1000,
            impact=2,
            confidence=80,
        ),
        make_item(product, pm, title="SEPA debits", status="planned", objectives=[objective]),
        make_item(product, pm, title="Project Falcon", status="candidate", tags=["secret"]),
        make_item(product, pm, title="Dark mode", status="idea", owner=pm),
    ]


@pytest.fixture
def nnl(workspace, product, pm, items):
    roadmap = services.create_roadmap(
        pm, workspace=workspace, product=product, name="Exec", layout=Layout.NOW_NEXT_LATER
    )
    services.add_entry(
        pm,
        roadmap=roadmap,
        item=items[0],
        horizon=Horizon.NOW,
        commitment=Commitment.COMMITTED,
        note="INTERNAL-NOTE-apple",
    )
    services.add_entry(pm, roadmap=roadmap, item=items[1], horizon=Horizon.NEXT)
    services.add_entry(
        pm, roadmap=roadmap, item=items[2], horizon=Horizon.LATER, commitment=Commitment.EXPLORING
    )
    services.add_entry(
        pm,
        roadmap=roadmap,
        title="Partner programme",
        horizon=Horizon.LATER,
        commitment=Commitment.EXPLORING,
    )
    return roadmap


@pytest.fixture
def timeline(workspace, product, pm, items):
    roadmap = services.create_roadmap(
        pm,
        workspace=workspace,
        product=product,
        name="Delivery",
        layout=Layout.TIMELINE,
        start_date=dt.date(2027, 1, 1),
        periods=6,
    )
    services.add_entry(
        pm,
        roadmap=roadmap,
        item=items[0],
        start_date=dt.date(2027, 1, 10),
        end_date=dt.date(2027, 3, 31),
    )
    services.add_entry(
        pm,
        roadmap=roadmap,
        item=items[1],
        start_date=dt.date(2027, 2, 1),
        end_date=dt.date(2027, 4, 30),
    )
    return roadmap


@pytest.fixture
def other_objective(product):
    return ObjectiveFactory(product=product, title="Expand into the EU")


def entry_of(roadmap, item):
    return roadmap.entries.select_related("item").get(item=item)
