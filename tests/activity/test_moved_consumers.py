"""The roadmap change log and the portal's status emails are consumers of
the event log: a crash between the commit and the after-commit task, or a
broker that is down, delays them; the sweep (``activity.dispatch``) finishes
them, exactly once for the change log."""

import pytest

from backlog import services as backlog
from backlog.models import Item
from feedback import services as feedback
from feedback import tasks as feedback_tasks
from pmhub.activity import consumers
from pmhub.activity.tasks import dispatch_events
from roadmaps import services as roadmaps
from roadmaps.models import Change, ChangeKind

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def item(pm, product):
    return backlog.create_item(pm, product=product, title="SEPA debits", status="in_progress")


@pytest.fixture
def roadmap(pm, workspace, product, item):
    roadmap = roadmaps.create_roadmap(
        pm, workspace=workspace, name="Plan", product=product, layout="now_next_later"
    )
    roadmaps.add_entry(pm, roadmap=roadmap, item=item)
    return roadmap


@pytest.fixture
def lost_after_commit(monkeypatch):
    """The process dies right after commit: the queued dispatch never runs."""
    monkeypatch.setattr(consumers, "_enqueue", lambda: None)


def _ship(pm, item):
    fresh = Item.objects.select_related("product__workspace").get(pk=item.pk)
    backlog.update_item(pm, item=fresh, expected_version=None, fields={"status": "shipped"})


def test_a_crash_after_commit_loses_no_shipped_line(pm, item, roadmap, monkeypatch):
    with monkeypatch.context() as crash:
        crash.setattr(consumers, "_enqueue", lambda: None)
        _ship(pm, item)
        assert not Change.objects.filter(kind=ChangeKind.SHIPPED).exists()
    dispatch_events()  # the beat sweep
    dispatch_events()
    shipped = Change.objects.filter(roadmap=roadmap, kind=ChangeKind.SHIPPED)
    assert [c.title for c in shipped] == ["SEPA debits"]
    assert shipped.get().actor_id == pm.pk


def test_a_broker_outage_loses_no_status_email(pm, product, item, mailoutbox, monkeypatch):
    feedback.update_portal_settings(
        pm, product=product, expected_version=None, fields={"enabled": True}
    )
    feedback.publish_idea(pm, item=item, public_title="Direct debit")
    f = feedback.create_feedback(pm, product=product, text="SEPA!", email="req@globex.example")
    feedback.link_feedback(pm, feedback=f, item=item)
    mailoutbox.clear()

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    with monkeypatch.context() as outage:
        outage.setattr(feedback_tasks.send_status_emails, "delay", broker_down)
        _ship(pm, item)  # the dispatch after commit fails for this consumer
        assert mailoutbox == []
    dispatch_events()  # the broker is back; the sweep runs
    dispatch_events()
    assert [m.to for m in mailoutbox] == [["req@globex.example"]]
    assert "has shipped" in mailoutbox[0].body
