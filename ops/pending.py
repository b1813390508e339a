"""Background work that is waiting: how much, and since when.

Each kind is the table its periodic sweep reads, so "pending" means exactly
what the sweep would pick up. ``oldest`` is when the oldest waiting piece was
marked (or became due); None when nothing waits or the kind keeps no time."""

import dataclasses
import datetime as dt

from django.db.models import Count, F, Max, Min
from django.utils import timezone

from archive.models import ArchiveJob
from backlog.models import BacklogSettings
from discussions.models import EmailState, Notification
from feedback.models import DemandQueue
from metrics.models import DirtyDay
from pmhub.activity import consumers
from pmhub.activity.models import ConsumerCursor, Event
from pmhub.webhooks.models import WebhookDelivery
from questions.models import AnswerEmail


@dataclasses.dataclass(frozen=True)
class Pending:
    kind: str
    count: int
    oldest: dt.datetime | None

    def age_seconds(self, now: dt.datetime) -> float:
        return max(0.0, (now - self.oldest).total_seconds()) if self.oldest else 0.0


def score_recomputes() -> Pending:
    # A backlog whose scores are behind its model; the generation bump keeps
    # no time, so the oldest is the oldest claim of a running recompute.
    rows = BacklogSettings.objects.filter(scored_generation__lt=F("score_generation"))
    agg = rows.aggregate(n=Count("pk"), oldest=Min("recompute_claimed_at"))
    return Pending("score_recomputes", agg["n"], agg["oldest"])


def metric_rollups() -> Pending:
    agg = DirtyDay.objects.aggregate(n=Count("pk"), oldest=Min("marked_at"))
    return Pending("metric_rollups", agg["n"], agg["oldest"])


def demand_recomputes() -> Pending:
    agg = DemandQueue.objects.aggregate(n=Count("pk"), oldest=Min("marked_at"))
    return Pending("demand_recomputes", agg["n"], agg["oldest"])


def webhook_deliveries(now: dt.datetime) -> Pending:
    due = WebhookDelivery.objects.due(now)
    agg = due.aggregate(n=Count("pk"), oldest=Min("next_attempt_at"))
    return Pending("webhook_deliveries", agg["n"], agg["oldest"])


def notification_emails() -> Pending:
    # Notifications to be emailed at once (those waiting for the daily digest
    # are not late: the digest runs once a day).
    waiting = Notification.objects.filter(email_state=EmailState.PENDING)
    agg = waiting.aggregate(n=Count("pk"), oldest=Min("created_at"))
    return Pending("notification_emails", agg["n"], agg["oldest"])


def answer_emails() -> Pending:
    agg = AnswerEmail.objects.unsent().aggregate(n=Count("pk"), oldest=Min("created_at"))
    return Pending("answer_emails", agg["n"], agg["oldest"])


def archive_jobs() -> Pending:
    # Queued or running exports and imports, since they were asked for.
    active = ArchiveJob.objects.filter(
        state__in=(ArchiveJob.State.QUEUED, ArchiveJob.State.RUNNING)
    )
    agg = active.aggregate(n=Count("pk"), oldest=Min("created_at"))
    return Pending("archive_jobs", agg["n"], agg["oldest"])


def event_consumers() -> list[Pending]:
    """Per registered consumer: events after its cursor (by id) and the time
    of the first of them."""
    last = Event.objects.aggregate(m=Max("id"))["m"] or 0
    cursors = dict(ConsumerCursor.objects.values_list("name", "last_id"))
    out = []
    for name in sorted(consumers.registered()):
        after = cursors.get(name, 0)
        first = (
            Event.objects.filter(id__gt=after).order_by("id").values_list("created_at", flat=True)
        ).first()
        out.append(Pending(f"events:{name}", max(0, last - after), first))
    return out


def all_pending(now: dt.datetime | None = None) -> list[Pending]:
    now = now or timezone.now()
    return [
        score_recomputes(),
        metric_rollups(),
        demand_recomputes(),
        webhook_deliveries(now),
        notification_emails(),
        answer_emails(),
        archive_jobs(),
        *event_consumers(),
    ]
