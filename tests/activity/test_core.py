"""The event log's core: record, record_many, actors, consumers, retention."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from pmhub.accounts.services import create_api_token
from pmhub.activity import acting_as, consumers, record, record_many
from pmhub.activity.models import ConsumerCursor, Event
from pmhub.activity.retention import purge_old_events


@pytest.fixture
def collected():
    """A registered consumer that remembers what it was handed."""
    seen = []
    consumers.register("test-collector", lambda events: seen.extend(e.id for e in events))
    yield seen
    consumers.unregister("test-collector")


def test_record_describes_the_object_and_its_changes(workspace, product, pm):
    event = record(
        workspace,
        "product.updated",
        product,
        changes={"name": ["Old", "New"], "when": [dt.date(2026, 1, 2), Decimal("1.5")]},
        actor=pm,
    )
    event.refresh_from_db()
    assert event.workspace == workspace
    assert (event.object_type, event.object_id) == ("products.product", product.pk)
    assert event.object_title == product.name
    assert event.product_id == product.pk
    assert event.version == product.version
    assert event.changes == {"name": ["Old", "New"], "when": ["2026-01-02", "1.5"]}
    assert (event.actor_kind, event.actor_user, event.actor_label) == ("user", pm, str(pm))


def test_without_anyone_acting_the_system_acts(workspace):
    event = record(workspace, "workspace.cleaned", object_type="accounts.workspace", object_id=1)
    assert (event.actor_kind, event.actor_user_id, event.actor_label) == ("system", None, "PMHub")


def test_acting_as_a_token_a_visitor_and_the_system(workspace, pm):
    token, _raw = create_api_token(pm, name="sync script")
    with acting_as(token):
        by_token = record(workspace, "x.done", actor=pm)
    with acting_as("visitor", label="ann@example.com"):
        by_visitor = record(workspace, "x.done", actor=pm)
    with acting_as("system", label="Nightly decay"):
        by_job = record(workspace, "x.done", actor=pm)
    assert (by_token.actor_kind, by_token.actor_token, by_token.actor_user) == ("token", token, pm)
    assert "sync script" in by_token.actor_label
    assert (by_visitor.actor_kind, by_visitor.actor_label) == ("visitor", "ann@example.com")
    assert (by_job.actor_kind, by_job.actor_label) == ("system", "Nightly decay")


def test_a_deleted_actor_keeps_its_name(workspace, teammate):
    event = record(workspace, "x.done", actor=teammate)
    label = event.actor_label
    teammate.delete()
    event.refresh_from_db()
    assert event.actor_user is None and event.actor_label == label


def test_a_rolled_back_write_records_nothing(workspace, pm):
    with pytest.raises(RuntimeError), transaction.atomic():
        record(workspace, "x.done", actor=pm)
        raise RuntimeError
    assert not Event.objects.exists()


def test_record_many_is_one_statement(workspace, product, pm, django_assert_num_queries):
    rows = [
        {"workspace": workspace, "verb": "x.bulk", "object_type": "t", "object_id": i}
        for i in range(50)
    ]
    with django_assert_num_queries(1):
        assert record_many(rows, actor=pm) == 50
    assert Event.objects.filter(verb="x.bulk", actor_user=pm).count() == 50


def test_record_many_refuses_unknown_fields(workspace):
    with pytest.raises(TypeError):
        record_many([{"workspace": workspace, "verb": "x", "colour": "red"}])


def test_api_requests_act_as_their_token(workspace, pm, product):
    _token, raw = create_api_token(pm, name="ci bot")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.patch(
        f"/api/v1/products/{product.pk}/",
        {"name": "Renamed"},
        format="json",
        HTTP_IF_MATCH=f'"{product.version}"',
    )
    assert response.status_code == 200, response.content
    event = Event.objects.get(verb="product.updated")
    assert (event.actor_kind, event.actor_user, event.actor_token.name) == ("token", pm, "ci bot")


@pytest.mark.django_db(transaction=True)
def test_each_consumer_gets_each_event_once_in_order(workspace, pm, collected):
    first = [record(workspace, "x.done", actor=pm).id for _ in range(3)]
    consumers.dispatch("test-collector")
    consumers.dispatch("test-collector")
    later = record(workspace, "x.done", actor=pm).id
    consumers.dispatch("test-collector", batch_size=2)
    assert collected == [*first, later]
    assert ConsumerCursor.objects.get(name="test-collector").last_id == later


@pytest.mark.django_db(transaction=True)
def test_a_failing_handler_is_retried_and_rolls_back_its_writes(workspace, pm):
    calls = []

    def flaky(events):
        record(workspace, "consumer.wrote", actor=pm)  # the handler's own write
        calls.append([e.id for e in events])
        if len(calls) == 1:
            raise RuntimeError("crashed mid-batch")

    event = record(workspace, "x.done", actor=pm)
    consumers.register("test-flaky", flaky, verbs={"x.done"})
    try:
        assert consumers.dispatch_all()["test-flaky"] == -1
        assert not Event.objects.filter(verb="consumer.wrote").exists()
        assert consumers.dispatch("test-flaky") == 1
        assert calls == [[event.id], [event.id]]
        assert Event.objects.filter(verb="consumer.wrote").count() == 1
    finally:
        consumers.unregister("test-flaky")


@pytest.mark.django_db(transaction=True)
def test_a_commit_queues_a_dispatch(workspace, pm, collected):
    """Eager tasks (no broker): the dispatch queued on commit runs at once."""
    with transaction.atomic():
        event = record(workspace, "x.done", actor=pm)
        record(workspace, "x.done", actor=pm)
        assert collected == []
    assert collected[0] == event.id and len(collected) == 2


@override_settings(ACTIVITY_RETENTION_DAYS=30)
def test_retention_deletes_old_events_in_batches(workspace, pm):
    old = timezone.now() - dt.timedelta(days=31)
    for _ in range(5):
        Event.objects.filter(pk=record(workspace, "x.old", actor=pm).pk).update(created_at=old)
    kept = record(workspace, "x.new", actor=pm)
    assert purge_old_events(batch=2) == 5
    assert list(Event.objects.values_list("id", flat=True)) == [kept.id]


@override_settings(ACTIVITY_RETENTION_DAYS=0)
def test_retention_zero_keeps_everything(workspace, pm):
    event = record(workspace, "x.old", actor=pm)
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - dt.timedelta(days=9999))
    assert purge_old_events() == 0
    assert Event.objects.exists()


def test_the_demo_history_is_spread_over_eight_weeks_in_order(workspace, pm):
    from pmhub.activity.demo_history import spread_demo_history

    ids = [record(workspace, "x.done", actor=pm).id for _ in range(120)]
    # Seeded just after midnight: the last events still fall on the day before,
    # at working hours, not all at "now".
    now = timezone.now().replace(hour=0, minute=30)
    assert spread_demo_history(workspace, now=now) == 120
    times = list(Event.objects.order_by("id").values_list("created_at", flat=True))
    assert times == sorted(times) and len(ids) == len(times)
    assert now - dt.timedelta(weeks=8, hours=1) <= times[0] < now - dt.timedelta(weeks=7)
    assert now - dt.timedelta(days=2) < times[-1] < now - dt.timedelta(hours=6)
    assert len(set(times[-5:])) == 5 and all(9 <= t.hour < 18 for t in times)


@override_settings(ACTIVITY_RETENTION_DAYS=30)
def test_retention_reads_from_the_oldest_id_and_stops_at_the_first_event_kept(workspace, pm):
    """No index on created_at: the purge walks the primary key from the
    oldest event and stops at the first one still inside the period; an
    expired event recorded after it (a backfill) waits for it."""
    old = timezone.now() - dt.timedelta(days=31)
    Event.objects.update(created_at=old)  # what the fixtures recorded is old too
    expired = [record(workspace, "x.old", actor=pm).pk for _ in range(3)]
    Event.objects.filter(pk__in=expired).update(created_at=old)
    kept = record(workspace, "x.new", actor=pm)
    late = record(workspace, "x.old", actor=pm)
    Event.objects.filter(pk=late.pk).update(created_at=old)
    assert purge_old_events(batch=2) >= 3
    assert list(Event.objects.order_by("id").values_list("id", flat=True)) == [kept.id, late.id]
