"""The PM's answer to a stakeholder's question, and its emails.

Saving an answer (version-checked: two PMs never overwrite each other)
writes one pending ``AnswerEmail`` row per address — the asker and every
confirmed +1 — in the same transaction, and enqueues one task per row after
commit. A task claims its row (a conditional UPDATE with a five-minute
lease), sends, and marks it sent; the beat sweep sends rows whose task
never ran or died (broker down, worker killed), so an answer email is late,
never lost."""

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from pmhub import activity
from pmhub.accounts.services import require_editor
from pmhub.versioning import save_versioned

from ..models import AnswerEmail, Question
from .asking import subject

log = logging.getLogger(__name__)

MAX_ANSWER = 5_000
LEASE = dt.timedelta(minutes=5)
SWEEP_AFTER = dt.timedelta(minutes=1)
SWEEP_BATCH = 500


def recipients(question: Question) -> list[str]:
    """The asker and the confirmed +1s, lower-cased, sorted, once each."""
    voters = question.votes.filter(verified_at__isnull=False).values_list("email", flat=True)
    return sorted({question.email.lower(), *(e.lower() for e in voters)})


@transaction.atomic
def answer_question(
    actor, *, question: Question, answer: str, expected_version: int | None
) -> Question:
    """Save (or change) the answer and queue its emails."""
    workspace = question.share_link.roadmap.workspace
    require_editor(actor, workspace)
    answer = (answer or "").replace("\r\n", "\n").strip()
    if not answer:
        raise ValidationError({"answer": "Write the answer."})
    if len(answer) > MAX_ANSWER:
        raise ValidationError(
            {"answer": f"The answer is too long ({MAX_ANSWER} characters at most)."}
        )
    if "\x00" in answer:
        raise ValidationError({"answer": "The answer contains a NUL character."})
    if question.verified_at is None:
        raise ValidationError({"answer": "The asker has not confirmed this question yet."})
    old = question.answer
    question = save_versioned(
        question,
        expected_version=expected_version,
        fields={"answer": answer, "answered_at": timezone.now(), "answered_by": actor},
    )
    rows = [
        AnswerEmail(question=question, email=email, answer_version=question.version)
        for email in recipients(question)
    ]
    AnswerEmail.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(
        AnswerEmail.objects.filter(question=question, answer_version=question.version)
        .unsent()
        .values_list("pk", flat=True)
    )
    activity.record(
        workspace.pk,
        "question.answered",
        question,
        changes={"answer": [old or None, answer[:200]]},
        object_title=question.text[:200],
        parent=question.feedback or question.share_link.roadmap,
        actor=actor,
    )
    transaction.on_commit(lambda: _enqueue(ids))
    return question


def _enqueue(ids: list[int]) -> None:
    from ..tasks import send_answer_email as task

    for pk in ids:
        try:
            task.delay(pk)
        except Exception:  # the broker is down: the sweep sends it
            log.warning("Could not enqueue answer email %s", pk, exc_info=True)
            return


def send_answer_email(email_id: int) -> bool:
    """Send one answer email if nobody sent or holds it (idempotent). A
    mail-server error releases the claim and raises, so the task retries."""
    now = timezone.now()
    claimed = (
        AnswerEmail.objects.filter(pk=email_id, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE))
        .update(claimed_at=now)
    )
    if not claimed:
        return False
    row = AnswerEmail.objects.select_related(
        "question__share_link__roadmap", "question__entry"
    ).get(pk=email_id)
    question = row.question
    link = question.share_link
    body = render_to_string(
        "questions/email/answer.txt",
        {
            "question": question,
            "roadmap": link.roadmap,
            "entry": question.entry,
            "answer": question.answer,
        },
    )
    try:
        send_mail(
            subject("Answer", question.entry.display_title),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [row.email],
        )
    except Exception:
        AnswerEmail.objects.filter(pk=row.pk, claimed_at=now).update(claimed_at=None)
        raise
    AnswerEmail.objects.filter(pk=row.pk).update(sent_at=timezone.now())
    return True


def sweep_answer_emails() -> int:
    """Periodic: send answer emails whose task never ran or died (older than
    a minute, unsent, not under a live claim). Returns how many were sent."""
    now = timezone.now()
    ids = list(
        AnswerEmail.objects.unsent()
        .filter(created_at__lt=now - SWEEP_AFTER)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE))
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    sent = 0
    for pk in ids:
        try:
            sent += send_answer_email(pk)
        except Exception:
            log.warning("Answer email %s failed; the next sweep retries", pk, exc_info=True)
    return sent
