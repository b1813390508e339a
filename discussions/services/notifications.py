"""Notifications: written in bulk by the event-log consumer (``kinds``),
read and marked read by their recipient, emailed at once or in a daily
digest per person and kind, with a signed one-click unsubscribe per kind.

Email is durable like everything downstream of the event log: a
notification to email is stored ``pending`` (or ``digest``) in the
consumer's transaction; a task per recipient sends and marks it, and the
beat sweep re-queues whatever a broker outage left pending."""

import datetime as dt
import logging

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from pmhub.accounts.models import Membership, User

from .. import registry
from ..kinds import KINDS
from ..models import Delivery, DigestRun, EmailPreference, EmailState, Notification

log = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "discussions.unsubscribe"


# --- writing (the consumer) -------------------------------------------------------


def _excerpt(event, kind: str) -> str:
    changes = event.changes or {}
    if event.verb.startswith("comment."):
        return str((changes.get("body") or [None, ""])[1] or "")[:280]
    if kind == "assigned":
        return "Assigned to you."
    if kind == "review":
        return {
            "spec.review_requested": "Your review of the spec is asked for.",
            "spec.approved": "The spec was approved.",
            "spec.changes_requested": "Changes to the spec were requested.",
        }.get(event.verb, "")
    if "status" in changes or "state" in changes:
        old, new = changes.get("status") or changes.get("state")
        return f"Status: {old or '—'} → {new}"
    if kind == "launch_review":
        return str((changes.get("learnings") or [None, ""])[1] or "")[:280]
    return ""


def _urls(batch, events) -> dict[tuple[str, int], str]:
    """{(type, id): URL} of every discussed object: one query per type."""
    by_type: dict[str, set[int]] = {}
    for event in events:
        label, oid = batch.target_of(event)
        if oid:
            by_type.setdefault(label, set()).add(oid)
    urls = {}
    for label, ids in by_type.items():
        kind = registry.get(label)
        if kind is None:
            continue
        for obj in kind.queryset().filter(pk__in=ids):
            urls[(label, obj.pk)] = kind.url(obj)
    return urls


def preferences_of(user_ids) -> dict[tuple[int, str], str]:
    """{(user id, kind): delivery} of the people who chose (one query)."""
    rows = EmailPreference.objects.filter(user_id__in=list(user_ids))
    return {(p.user_id, p.kind): p.delivery for p in rows}


def delivery_for(prefs: dict, user_id: int, kind: str) -> str:
    default = KINDS[kind].default if kind in KINDS else Delivery.IMMEDIATE
    return prefs.get((user_id, kind), default)


def deliver(wanted, batch) -> int:
    """Insert the notifications of a consumer batch (members only) with one
    INSERT, and queue one email task per recipient who wants email at once."""
    if not wanted:
        return 0
    members = set(
        Membership.objects.filter(
            workspace_id__in={e.workspace_id for e, _u, _k in wanted},
            user_id__in={u for _e, u, _k in wanted},
        ).values_list("workspace_id", "user_id")
    )
    wanted = [(e, u, k) for e, u, k in wanted if (e.workspace_id, u) in members]
    if not wanted:
        return 0
    urls = _urls(batch, [e for e, _u, _k in wanted])
    prefs = preferences_of({u for _e, u, _k in wanted})
    rows, immediate = [], set()
    for event, uid, kind in wanted:
        label, oid = batch.target_of(event)
        delivery = delivery_for(prefs, uid, kind)
        state = {
            Delivery.IMMEDIATE: EmailState.PENDING,
            Delivery.DIGEST: EmailState.DIGEST,
        }.get(delivery, EmailState.NONE)
        if state == EmailState.PENDING:
            immediate.add(uid)
        rows.append(
            Notification(
                workspace_id=event.workspace_id,
                recipient_id=uid,
                kind=kind,
                event_id=event.pk,
                verb=event.verb,
                actor_label=event.actor_label[:150],
                object_type=label or "",
                object_id=oid or 0,
                object_key=event.object_key,
                object_title=event.object_title,
                url=urls.get((label, oid), ""),
                excerpt=_excerpt(event, kind),
                created_at=event.created_at,
                email_state=state,
            )
        )
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5000)
    if immediate:
        transaction.on_commit(lambda: _queue_emails(sorted(immediate)), robust=True)
    return len(rows)


def _queue_emails(user_ids: list[int]) -> None:
    from ..tasks import send_notification_emails

    for uid in user_ids:
        try:
            send_notification_emails.delay(uid)
        except Exception:  # the broker is down: the sweep sends them later
            log.warning("could not queue notification email; the sweep will", exc_info=True)
            return


# --- reading and marking ----------------------------------------------------------


@transaction.atomic
def mark_read(actor, *, notification_ids) -> int:
    """Mark the actor's own notifications read (others' ids change nothing)."""
    return (
        Notification.objects.filter(recipient=actor, pk__in=list(notification_ids))
        .unread()
        .update(read_at=timezone.now())
    )


@transaction.atomic
def mark_all_read(actor, *, workspace=None, kind: str | None = None) -> int:
    rows = Notification.objects.filter(recipient=actor).unread()
    if workspace is not None:
        rows = rows.filter(workspace=workspace)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.update(read_at=timezone.now())


def unread_count(user) -> int:
    return Notification.objects.of(user).unread().count()


# --- preferences and unsubscribe --------------------------------------------------


@transaction.atomic
def set_preference(actor, *, kind: str, delivery: str) -> EmailPreference:
    """How ``actor`` hears of ``kind`` by email: immediately, in the daily
    digest, or not at all. Notifications waiting for email follow the choice."""
    if kind not in KINDS:
        raise ValidationError({"kind": "Unknown kind of notification."})
    if delivery not in Delivery.values:
        raise ValidationError({"delivery": f"Choose one of {', '.join(Delivery.values)}."})
    row, _ = EmailPreference.objects.update_or_create(
        user=actor, kind=kind, defaults={"delivery": delivery, "updated_at": timezone.now()}
    )
    waiting = Notification.objects.filter(
        recipient=actor, kind=kind, email_state__in=[EmailState.PENDING, EmailState.DIGEST]
    )
    state = {Delivery.IMMEDIATE: EmailState.PENDING, Delivery.DIGEST: EmailState.DIGEST}
    waiting.update(email_state=state.get(delivery, EmailState.NONE))
    return row


def unsubscribe_token(user_id: int, kind: str) -> str:
    return signing.dumps({"u": user_id, "k": kind}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[User, str]:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user = User.objects.get(pk=int(data["u"]), is_active=True)
        kind = str(data["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, User.DoesNotExist):
        raise ValidationError("This unsubscribe link is not valid.") from None
    if kind not in KINDS:
        raise ValidationError("This unsubscribe link is not valid.")
    return user, kind


def unsubscribe(token: str) -> tuple[User, str]:
    """Follow a one-click unsubscribe link: no more email of that kind."""
    user, kind = read_unsubscribe_token(token)
    set_preference(user, kind=kind, delivery=Delivery.OFF)
    return user, kind


# --- email ------------------------------------------------------------------------


def _absolute(path: str) -> str:
    if not path or path.startswith("http"):
        return path
    return settings.SITE_URL.rstrip("/") + path if getattr(settings, "SITE_URL", "") else path


def _email(user, subject: str, notifications: list[Notification]) -> EmailMessage:
    kinds = sorted({n.kind for n in notifications})
    unsubscribe = {
        k: _absolute(reverse("discussions:unsubscribe", args=[unsubscribe_token(user.pk, k)]))
        for k in kinds
    }
    body = render_to_string(
        "discussions/email/notifications.txt",
        {
            "user": user,
            "notifications": [
                {
                    "n": n,
                    "url": _absolute(n.url),
                    "kind_label": KINDS[n.kind].label if n.kind in KINDS else n.kind,
                }
                for n in notifications
            ],
            "unsubscribe": [
                (KINDS[k].label if k in KINDS else k, url) for k, url in unsubscribe.items()
            ],
            "settings_url": _absolute(reverse("discussions:preferences")),
        },
    )
    headers = {}
    if len(unsubscribe) == 1:  # RFC 8058 one-click, when one kind is in the email
        headers = {
            "List-Unsubscribe": f"<{next(iter(unsubscribe.values()))}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], headers=headers)


def _subject(notifications: list[Notification]) -> str:
    first = notifications[0]
    what = first.object_key or first.object_title[:60]
    verb = {
        "mention": f"{first.actor_label} mentioned you on {what}",
        "comment": f"{first.actor_label} commented on {what}",
        "assigned": f"{what} was assigned to you",
        "status": f"{what} changed status",
        "launch_review": f"Launch review of {what}",
        "review": f"{first.actor_label} on the spec of {what}",
    }.get(first.kind, f"{first.actor_label} on {what}")
    more = len(notifications) - 1
    return verb + (f" (and {more} more)" if more else "")


def send_pending_email(user_id: int) -> int:
    """Email one person the notifications waiting to go out at once, in one
    message; rows are locked, sent, then marked in one transaction, so a
    failure leaves them pending for the retry or the sweep."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return 0
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(recipient_id=user_id, email_state=EmailState.PENDING)
            .order_by("id")[:50]
        )
        if not rows:
            return 0
        if user.email:
            _email(user, _subject(rows), rows).send()
        Notification.objects.filter(pk__in=[n.pk for n in rows]).update(
            email_state=EmailState.SENT, emailed_at=timezone.now()
        )
    return len(rows)


def pending_recipients(older_than: dt.timedelta = dt.timedelta(minutes=1)) -> list[int]:
    """People with email that should have gone out (the sweep's work)."""
    cutoff = timezone.now() - older_than
    return sorted(
        set(
            Notification.objects.filter(
                email_state=EmailState.PENDING, created_at__lte=cutoff
            ).values_list("recipient_id", flat=True)[:1000]
        )
    )


def digest_recipients() -> list[int]:
    return sorted(
        set(
            Notification.objects.filter(email_state=EmailState.DIGEST).values_list(
                "recipient_id", flat=True
            )
        )
    )


def send_digest(user_id: int, day: dt.date) -> int:
    """The day's digest for one person: one email, at most once per day (the
    ``DigestRun`` row is the claim; running the job twice sends nothing twice)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return 0
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = DigestRun.objects.create(user=user, day=day)
        except IntegrityError:
            return 0
        rows = list(
            Notification.objects.select_for_update()
            .filter(recipient=user, email_state=EmailState.DIGEST)
            .order_by("id")[:200]
        )
        if not rows:
            return 0
        if user.email:
            subject = f"PMHub daily digest: {len(rows)} notification{'s' if len(rows) != 1 else ''}"
            _email(user, subject, rows).send()
        Notification.objects.filter(pk__in=[n.pk for n in rows]).update(
            email_state=EmailState.SENT, emailed_at=timezone.now()
        )
        DigestRun.objects.filter(pk=run.pk).update(sent_at=timezone.now(), count=len(rows))
    return len(rows)
