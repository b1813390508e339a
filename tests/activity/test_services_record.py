"""Every service write records exactly its events, in its transaction: a
table of writes, each with the verbs it must record (in order); the same
write rolled back records nothing."""

import datetime as dt

import pytest
from django.db import transaction

from backlog import services as backlog
from feedback import services as feedback
from metrics import services as metrics
from pmhub.accounts import services as accounts
from pmhub.accounts.models import Membership
from pmhub.activity.models import Event
from pmhub.activity.verbs import VERBS
from products import services as products
from roadmaps import services as roadmaps


class World:
    """What the writes act on, made before the write is measured."""

    def __init__(self, pm, teammate, product):
        self.pm, self.teammate, self.product = pm, teammate, product
        self.workspace = product.workspace
        self.items = [backlog.create_item(pm, product=product, title=f"Item {n}") for n in range(3)]
        self.roadmap = roadmaps.create_roadmap(
            pm, workspace=self.workspace, name="Plan", product=product, layout="now_next_later"
        )
        self.entry = roadmaps.add_entry(pm, roadmap=self.roadmap, item=self.items[0])
        self.other_entry = roadmaps.add_entry(pm, roadmap=self.roadmap, item=self.items[1])
        self.company = feedback.create_company(pm, workspace=self.workspace, name="Globex")
        self.feedback = feedback.create_feedback(
            pm, product=product, text="Need exports", company=self.company
        )
        self.membership = Membership.objects.get(workspace=self.workspace, user=teammate)

    def item(self, n=0):
        return (
            type(self.items[n])
            .objects.select_related("product__workspace")
            .get(pk=self.items[n].pk)
        )


def _link(w):
    return feedback.link_feedback(w.pm, feedback=w.feedback, item=w.items[0])


def _unlink(w):
    insight = _link(w)
    Event.objects.all().delete()  # measure the unlink alone
    feedback.delete_insight(w.pm, insight=insight)


def _revoke(w):
    link, _raw = roadmaps.create_share_link(w.pm, roadmap=w.roadmap, label="Board")
    Event.objects.all().delete()
    roadmaps.revoke_share_link(w.pm, link=link)


WRITES = {
    "create item": (
        lambda w: backlog.create_item(w.pm, product=w.product, title="New"),
        ["item.created"],
    ),
    "edit an item's title": (
        lambda w: backlog.update_item(
            w.pm, item=w.item(), expected_version=None, fields={"title": "Renamed"}
        ),
        ["item.updated"],
    ),
    "change an item's status": (
        lambda w: backlog.update_item(
            w.pm, item=w.item(), expected_version=None, fields={"status": "planned"}
        ),
        ["item.status_changed"],
    ),
    "move an item": (
        lambda w: backlog.move_item(w.pm, item=w.item(2), before=w.item(0)),
        ["item.moved"],
    ),
    "delete an item": (
        lambda w: backlog.delete_item(w.pm, item=w.item(2)),
        ["item.deleted"],
    ),
    "bulk edit three items": (
        lambda w: backlog.bulk_update_items(
            w.pm, product=w.product, item_ids=[i.pk for i in w.items], status="planned"
        ),
        ["item.status_changed"] * 3,
    ),
    "rename the product": (
        lambda w: products.update_product(
            w.pm, product=w.product, expected_version=None, fields={"name": "Payments 2"}
        ),
        ["product.updated"],
    ),
    "create an objective": (
        lambda w: products.create_objective(w.pm, product=w.product, title="Grow"),
        ["objective.created"],
    ),
    "create a metric": (
        lambda w: metrics.create_metric(w.pm, product=w.product, name="Signups"),
        ["metric.created"],
    ),
    "add a roadmap entry": (
        lambda w: roadmaps.add_entry(w.pm, roadmap=w.roadmap, item=w.items[2]),
        ["roadmap_entry.added"],
    ),
    "move a roadmap entry": (
        lambda w: roadmaps.move_entry(
            w.pm, entry=w.entry, expected_version=None, column="later", after=w.other_entry
        ),
        ["roadmap_entry.moved"],
    ),
    "remove a roadmap entry": (
        lambda w: roadmaps.remove_entry(w.pm, entry=w.entry),
        ["roadmap_entry.removed"],
    ),
    "add a milestone": (
        lambda w: roadmaps.add_milestone(
            w.pm, roadmap=w.roadmap, name="GA", date=dt.date(2026, 6, 1)
        ),
        ["milestone.created"],
    ),
    "create a share link": (
        lambda w: roadmaps.create_share_link(w.pm, roadmap=w.roadmap, label="Board"),
        ["share_link.created"],
    ),
    "revoke a share link": (_revoke, ["share_link.revoked"]),
    "create a company": (
        lambda w: feedback.create_company(w.pm, workspace=w.workspace, name="Initech"),
        ["company.created"],
    ),
    "record feedback": (
        lambda w: feedback.create_feedback(w.pm, product=w.product, text="More colours"),
        ["feedback.created"],
    ),
    "link feedback to an item": (_link, ["insight.linked", "feedback.state_changed"]),
    "unlink an insight": (_unlink, ["insight.unlinked"]),
    "change a member's role": (
        lambda w: accounts.change_role(w.pm, membership=w.membership, role="viewer"),
        ["member.role_changed"],
    ),
}


@pytest.fixture
def world(pm, teammate, product):
    w = World(pm, teammate, product)
    Event.objects.all().delete()
    return w


@pytest.mark.parametrize("name", WRITES)
def test_each_write_records_exactly_its_events(world, name):
    write, verbs = WRITES[name]
    write(world)
    events = list(Event.objects.order_by("id"))
    assert [e.verb for e in events] == verbs
    assert all(verb in VERBS for verb in verbs)
    assert all(e.workspace_id == world.workspace.pk for e in events)
    assert all(e.actor_user_id == world.pm.pk and e.actor_kind == "user" for e in events)
    assert all(e.object_id is not None and e.object_type for e in events)


@pytest.mark.parametrize("name", WRITES)
def test_a_rolled_back_write_records_nothing(world, name):
    write, _verbs = WRITES[name]
    before = Event.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        write(world)
        raise RuntimeError("the request failed after the write")
    assert Event.objects.count() == before


def test_an_update_records_old_and_new_values(world):
    item = world.item()
    backlog.update_item(
        world.pm,
        item=item,
        expected_version=None,
        fields={"title": "Renamed", "status": "planned", "tags": ["ux"]},
    )
    event = Event.objects.get()
    assert event.verb == "item.status_changed"
    assert event.object_key == item.key and event.object_title == "Renamed"
    assert event.version == item.version
    assert event.changes == {
        "title": ["Item 0", "Renamed"],
        "status": ["idea", "planned"],
        "tags": [[], ["ux"]],
    }


def test_a_bulk_edit_records_its_events_in_one_statement(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        backlog.bulk_update_items(
            world.pm, product=world.product, item_ids=[i.pk for i in world.items], status="planned"
        )
    inserts = [
        q
        for q in ctx.captured_queries
        if q["sql"]
        .replace('"', "")
        .startswith(("INSERT INTO activity_event", "COPY activity_event"))
    ]
    assert len(inserts) == 1
    assert Event.objects.filter(verb="item.status_changed").count() == 3


def test_an_entry_event_shows_on_its_roadmap_and_an_insight_on_its_item(world):
    _link(world)
    roadmaps.remove_entry(world.pm, entry=world.entry)
    on_roadmap = Event.objects.for_object(world.roadmap)
    on_item = Event.objects.for_object(world.items[0])
    assert [e.verb for e in on_roadmap] == ["roadmap_entry.removed"]
    assert "insight.linked" in [e.verb for e in on_item]
