"""Notifications: the event-log consumer, the kinds table, email (at once and
the daily digest), unsubscribe, and the cost of telling 1 000 watchers."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog import services as backlog_services
from discussions import kinds, services
from discussions.models import DigestRun, EmailState, Notification, Watch
from pmhub.activity import consumers
from pmhub.activity.models import ConsumerCursor, Event

from .test_services import post


def kinds_of(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_a_comment_tells_watchers_and_a_mention_beats_comment(pm, teammate, viewer, item, notify):
    services.set_watch(
        viewer,
        workspace=item.product.workspace,
        object_type="backlog.item",
        object_id=item.pk,
        watching=True,
    )
    notify()
    post(pm, item, f"@{teammate.username} can you check?")
    notify()
    assert kinds_of(teammate) == ["assigned", "mention"]  # assigned at creation, then mentioned
    assert kinds_of(viewer) == ["comment"]
    assert kinds_of(pm) == []  # never of your own change
    note = Notification.objects.get(recipient=viewer)
    assert note.url == f"/w/acme/p/PAY/backlog/items/{item.number}/"
    assert note.object_key == item.key and "can you check" in note.excerpt


def test_status_change_tells_watchers_and_a_new_owner_is_assigned(
    pm, teammate, viewer, item, notify
):
    notify()
    Notification.objects.all().delete()
    item = backlog_services.update_item(
        pm, item=item, expected_version=item.version, fields={"status": "planned"}
    )
    notify()
    assert kinds_of(teammate) == ["status"]  # the owner watches
    backlog_services.update_item(
        pm, item=item, expected_version=item.version, fields={"owner": viewer}
    )
    notify()
    assert kinds_of(viewer) == ["assigned"]
    assert Notification.objects.get(recipient=viewer).excerpt == "Assigned to you."


def test_the_kinds_table_takes_a_new_verb_in_one_line(pm, teammate, item, notify, monkeypatch):
    monkeypatch.setitem(kinds.RULES, "spec.review_requested", [])
    kinds.add_rule("spec.review_requested", "mention", kinds.user_ids_in("reviewers"))
    from pmhub import activity

    activity.record(
        item.product.workspace,
        "spec.review_requested",
        item,
        changes={"reviewers": [[], [teammate.pk]]},
        actor=pm,
    )
    notify()
    assert "mention" in kinds_of(teammate)


def test_only_members_are_told(pm, teammate, item, notify, workspace):
    from pmhub.accounts.models import Membership

    Watch.objects.create(
        workspace=workspace, user=teammate, object_type="backlog.item", object_id=item.pk
    )
    Membership.objects.filter(user=teammate).delete()
    notify()
    post(pm, item, "hello")
    notify()
    assert kinds_of(teammate) == []


def test_a_batch_handed_twice_notifies_once(pm, teammate, item):
    post(pm, item, f"@{teammate.username}")
    events = list(Event.objects.order_by("id"))
    kinds.notify_consumer(events)
    kinds.notify_consumer(events)
    assert kinds_of(teammate).count("mention") == 1


def test_notifying_1000_watchers_is_one_insert_and_no_query_per_recipient(
    pm, item, workspace, notify, monkeypatch
):
    from pmhub.accounts.models import Membership, Role, User

    users = User.objects.bulk_create(
        [User(username=f"w{i}", email=f"w{i}@x.test") for i in range(1000)]
    )
    Membership.objects.bulk_create(
        [Membership(workspace=workspace, user=u, role=Role.VIEWER) for u in users]
    )
    Watch.objects.bulk_create(
        [
            Watch(workspace=workspace, user=u, object_type="backlog.item", object_id=item.pk)
            for u in users
        ]
    )
    queued = []
    monkeypatch.setattr("discussions.tasks.send_notification_emails.delay", queued.append)
    services.set_preference(users[0], kind="comment", delivery="immediate")
    notify()
    post(pm, item, "News for everyone")
    events = list(Event.objects.filter(verb="comment.created"))
    with CaptureQueriesContext(connection) as ctx, pytest.MonkeyPatch.context() as mp:
        on_commit = []
        mp.setattr("django.db.transaction.on_commit", lambda fn, robust=False: on_commit.append(fn))
        kinds.notify_consumer(events)
    inserts = [q for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert len(ctx.captured_queries) <= 8, [q["sql"][:80] for q in ctx.captured_queries]
    assert Notification.objects.filter(kind="comment").count() == 1001  # the owner too
    for fn in on_commit:
        fn()
    assert queued == [users[0].pk]  # one email task per recipient who wants it at once


def test_an_immediate_email_is_sent_once_with_an_unsubscribe_link(pm, teammate, item, notify):
    teammate.email = "t@x.test"
    teammate.save()
    notify()
    services.send_pending_email(teammate.pk)  # "assigned to you", at the item's creation
    mail.outbox = []
    post(pm, item, f"@{teammate.username} <script>alert(1)</script> please")
    notify()
    assert services.send_pending_email(teammate.pk) == 1
    assert services.send_pending_email(teammate.pk) == 0  # nothing twice
    message = mail.outbox[-1]
    assert message.to == ["t@x.test"]
    assert "mentioned you" in message.subject
    assert "/notifications/unsubscribe/" in message.body
    assert message.extra_headers.get("List-Unsubscribe-Post") or "Stop emails" in message.body
    assert not Notification.objects.filter(email_state=EmailState.PENDING).exists()


def test_the_digest_is_one_email_a_day_and_idempotent(pm, teammate, viewer, item, notify):
    viewer.email = "v@x.test"
    viewer.save()
    services.set_watch(
        viewer,
        workspace=item.product.workspace,
        object_type="backlog.item",
        object_id=item.pk,
        watching=True,
    )
    notify()
    for text in ("one", "two", "three"):
        post(pm, item, text)
    notify()
    assert Notification.objects.filter(recipient=viewer, email_state=EmailState.DIGEST).count() == 3
    mail.outbox = []
    day = dt.date(2026, 12, 8)
    assert (
        services.digest_recipients() == [teammate.pk, viewer.pk]
        or viewer.pk in services.digest_recipients()
    )
    assert services.send_digest(viewer.pk, day) == 3
    assert services.send_digest(viewer.pk, day) == 0  # the job ran twice
    assert len([m for m in mail.outbox if m.to == ["v@x.test"]]) == 1
    assert DigestRun.objects.get(user=viewer, day=day).count == 3


def test_unsubscribe_by_token_turns_that_kind_off(pm, teammate, item, notify):
    token = services.unsubscribe_token(teammate.pk, "mention")
    services.unsubscribe(token)
    notify()
    post(pm, item, f"@{teammate.username}")
    notify()
    note = Notification.objects.get(recipient=teammate, kind="mention")
    assert note.email_state == EmailState.NONE  # still in the bell, no email
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.unsubscribe(token + "x")


def test_mark_read_touches_only_your_own(pm, teammate, item, notify):
    post(pm, item, f"@{teammate.username}")
    notify()
    mine = Notification.objects.filter(recipient=teammate)
    assert services.mark_read(pm, notification_ids=list(mine.values_list("pk", flat=True))) == 0
    assert services.unread_count(teammate) == mine.count()
    assert services.mark_all_read(teammate, kind="mention") == 1
    assert services.mark_all_read(teammate) == mine.count() - 1
    assert services.unread_count(teammate) == 0


@pytest.mark.django_db(transaction=True)
def test_the_consumer_runs_through_the_event_log_dispatch(workspace, pm, teammate, product):
    from tests.backlog.factories import make_item

    ConsumerCursor.objects.update_or_create(
        name="notifications", defaults={"last_txid": 0, "last_id": 0}
    )
    item = make_item(product, pm, title="Durable")
    post(pm, item, f"@{teammate.username} durable?")
    consumers.dispatch("notifications")
    assert Notification.objects.filter(recipient=teammate, kind="mention").count() == 1
    consumers.dispatch("notifications")  # nothing handed twice
    assert Notification.objects.filter(recipient=teammate, kind="mention").count() == 1


def test_a_broker_outage_leaves_email_pending_for_the_sweep(
    pm, teammate, item, notify, monkeypatch
):
    teammate.email = "t@x.test"
    teammate.save()
    notify()

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("discussions.tasks.send_notification_emails.delay", down)
    post(pm, item, f"@{teammate.username}")
    notify()
    services.notifications._queue_emails([teammate.pk])  # logs, does not raise
    Notification.objects.update(
        created_at=Notification.objects.first().created_at - dt.timedelta(minutes=5)
    )
    assert services.pending_recipients() == [teammate.pk]
    assert services.send_pending_email(teammate.pk) == 2  # assigned at creation, and the mention
    assert services.pending_recipients() == []


def test_spec_reviews_tell_the_reviewers_then_who_watches_the_item(
    pm, teammate, admin_member, item, notify
):
    from specs import services as specs_services
    from specs.models import Verdict

    notify()
    Notification.objects.all().delete()
    spec = specs_services.create_spec(pm, item=item, problem="Shoppers retype cards.")
    specs_services.request_review(pm, spec=spec, reviewers=[admin_member])
    notify()
    assert kinds_of(admin_member) == ["review"]
    asked = Notification.objects.get(recipient=admin_member)
    assert asked.url == f"/w/acme/p/PAY/backlog/items/{item.number}/"  # the spec's item
    assert asked.excerpt == "Your review of the spec is asked for."
    assert kinds_of(teammate) == []  # asking is not news for the watchers

    Notification.objects.all().delete()
    specs_services.decide_review(
        admin_member, spec=spec, verdict=Verdict.CHANGES_REQUESTED, comment="Add metrics"
    )
    notify()
    assert kinds_of(teammate) == ["review"]  # the owner watches the item
    assert kinds_of(pm) == ["review"]  # so does its creator
    assert kinds_of(admin_member) == []  # never of your own verdict
    assert Notification.objects.get(recipient=teammate).verb == "spec.changes_requested"
