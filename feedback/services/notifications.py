"""Emails of the portal: news of a public item (planned, shipped, declined)
to its verified voters and requesters, and the link that makes an anonymous
vote count. Sent from Celery tasks; every email carries an unsubscribe link."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from backlog.models import Status

from ..models import Insight, PublicIdea, Subscription, Vote
from .portal import unsubscribe_token, vote_token

log = logging.getLogger(__name__)

# Backlog statuses → the news a customer gets. "In progress" counts as planned
# news only when the item jumps there without passing "planned".
NOTIFY = {
    Status.PLANNED: "planned",
    Status.IN_PROGRESS: "planned",
    Status.SHIPPED: "shipped",
    Status.DECLINED: "declined",
}


PLANNED_LIKE = (Status.PLANNED, Status.IN_PROGRESS)


def status_news(old_status: str, new_status: str) -> str | None:
    """Which email (planned / shipped / declined) a status change sends, if any."""
    news = NOTIFY.get(new_status)
    if news == "planned" and old_status in PLANNED_LIKE:
        return None
    return news


def status_email_consumer(events) -> None:
    """Consumer of ``item.status_changed`` events: public items with news
    enqueue their emails. A broker that is down raises, so the batch is not
    marked done and the next dispatch (at the latest the beat sweep) tries
    again: emails are late, never lost (and at least once per change)."""
    from ..tasks import send_status_emails

    news_of = {}
    for event in events:
        old_status, new_status = event.changes.get("status", [None, None])
        news = status_news(old_status, new_status)
        if news is not None:
            news_of.setdefault(event.object_id, []).append(news)
    if not news_of:
        return
    public = set(  # one query for the whole batch
        PublicIdea.objects.filter(item_id__in=news_of).values_list("item_id", flat=True)
    )
    for item_id, all_news in news_of.items():
        if item_id in public:
            for news in all_news:
                send_status_emails.delay(item_id, news)


def recipients(idea: PublicIdea) -> list[str]:
    """Verified voters and requesters (people whose feedback is linked to
    the item) with an email, minus those who unsubscribed; lower-cased, sorted."""
    voters = Vote.objects.filter(idea=idea, verified_at__isnull=False).values_list(
        "email", flat=True
    )
    requesters = (
        Insight.objects.filter(item_id=idea.item_id)
        .exclude(feedback__person__email="")
        .exclude(feedback__person__isnull=True)
        .values_list("feedback__person__email", flat=True)
    )
    emails = {e.lower() for e in [*voters, *requesters] if e and not e.endswith(".invalid")}
    gone = {
        e.lower()
        for e in Subscription.objects.filter(
            product_id=idea.product_id, unsubscribed_at__isnull=False
        ).values_list("email", flat=True)
    }
    return sorted(emails - gone)


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path if getattr(settings, "SITE_URL", "") else path


def status_email_recipients(item_id: int) -> list[str]:
    """Who hears about a public item's news: its verified voters and requesters
    who have not unsubscribed."""
    idea = PublicIdea.objects.filter(item_id=item_id).first()
    return recipients(idea) if idea is not None else []


def send_status_emails(item_id: int, news: str, *, only: list[str] | None = None) -> int:
    """Email voters and requesters of a public item about its news (or only
    the addresses in ``only``). Returns the number of emails sent. Each email
    carries an unsubscribe link."""
    idea = (
        PublicIdea.objects.select_related("item", "product__workspace")
        .filter(item_id=item_id)
        .first()
    )
    if idea is None:
        return 0
    product = idea.product
    portal_url = _absolute(reverse("feedback:portal", args=[product.workspace.slug, product.key]))
    subject = {
        "planned": f"Planned: {idea.public_title}",
        "shipped": f"Shipped: {idea.public_title}",
        "declined": f"Not planned: {idea.public_title}",
    }[news]
    sent = 0
    for email in recipients(idea) if only is None else only:
        unsubscribe_url = _absolute(
            reverse("feedback:portal-unsubscribe", args=[unsubscribe_token(product.pk, email)])
        )
        body = render_to_string(
            "feedback/email/status.txt",
            {
                "idea": idea,
                "news": news,
                "reason": idea.item.status_reason,
                "product": product,
                "portal_url": portal_url,
                "unsubscribe_url": unsubscribe_url,
            },
        )
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        sent += 1
    return sent


def send_vote_verification(vote_id: int) -> bool:
    vote = Vote.objects.select_related("idea__product__workspace").filter(pk=vote_id).first()
    if vote is None or vote.verified_at is not None:
        return False
    product = vote.idea.product
    body = render_to_string(
        "feedback/email/verify_vote.txt",
        {
            "idea": vote.idea,
            "product": product,
            "confirm_url": _absolute(
                reverse("feedback:portal-vote-confirm", args=[vote_token(vote)])
            ),
            "unsubscribe_url": _absolute(
                reverse(
                    "feedback:portal-unsubscribe", args=[unsubscribe_token(product.pk, vote.email)]
                )
            ),
        },
    )
    send_mail(
        f"Confirm your vote: {vote.idea.public_title}",
        body,
        settings.DEFAULT_FROM_EMAIL,
        [vote.email],
    )
    return True
