"""What a stakeholder does on a shared roadmap without an account: ask a
question about an entry, +1 someone's question, and confirm either by the
emailed link. Nothing counts until the address is confirmed; a confirmed
question lands in the product's feedback inbox (source "Shared roadmap",
linked to the entry's item).

Every anonymous write is rate-limited per client address and per email
(``pmhub.ratelimit``): beyond a limit ``RateLimited`` (429) and nothing is
stored. A filled honeypot field stores nothing either."""

import logging

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from feedback import services as feedback
from feedback.models import Source
from pmhub import activity
from pmhub.ratelimit import hit
from roadmaps import reads as roadmap_reads
from roadmaps.models import Entry, ShareLink

from ..models import Question, QuestionVote
from .settings import questions_allowed

log = logging.getLogger(__name__)

MAX_QUESTION = 2_000
# (hits, seconds): questions and +1s together, per client address and link,
# and per email named (each sends a verification email).
ASK_LIMIT = (10, 60)
ASK_EMAIL_LIMIT = (10, 60)
ASK_EMAIL_HOURLY = (30, 3600)
LINK_MAX_AGE = 7 * 24 * 3600


class Honeypot(Exception):
    """A bot filled the field people never see: answer as if accepted, store nothing."""


def _check_open(link: ShareLink) -> None:
    if not questions_allowed(link):
        raise PermissionDenied("This roadmap does not take questions.")


def _clean(text: str, email: str) -> tuple[str, str]:
    errors = {}
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        errors["text"] = "Write your question."
    elif len(text) > MAX_QUESTION:
        errors["text"] = (
            f"Your question is too long ({len(text)} characters; {MAX_QUESTION} at most)."
        )
    elif "\x00" in text:
        errors["text"] = "The question contains a NUL character."
    try:
        email = _email(email)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return text, email


def _email(email: str) -> str:
    if len(email or "") > 254:
        raise ValidationError({"email": "Enter a valid email address."})
    email = feedback.clean_email(email)
    if not email:
        raise ValidationError({"email": "We need your email to send you the answer."})
    return email


def _limits(link: ShareLink, email: str, ip: str) -> None:
    hit("questions-ask", f"{link.pk}:{ip}", ASK_LIMIT)
    hit("questions-ask-email", email, ASK_EMAIL_LIMIT)
    hit("questions-ask-email-hour", email, ASK_EMAIL_HOURLY)


def _visible_entry(link: ShareLink, entry_id) -> Entry:
    """An entry of the link's roadmap that its audience may see; else a
    field error that says nothing about other roadmaps."""
    try:
        entry_id = int(entry_id)
    except (TypeError, ValueError):
        entry_id = None
    entry = (
        Entry.objects.filter(pk=entry_id, roadmap_id=link.roadmap_id)
        .select_related("item")
        .prefetch_related("item__tags")
        .first()
        if entry_id is not None and 0 < entry_id < 2**31
        else None
    )
    tags = [t.name for t in entry.item.tags.all()] if entry is not None and entry.item_id else []
    if entry is None or not roadmap_reads.entry_visible(entry, tags, link):
        raise ValidationError({"entry": "Pick an entry of this roadmap."})
    return entry


def ask_question(
    *, link: ShareLink, entry_id, text: str, email: str, ip: str, honeypot: str = ""
) -> Question:
    """A stakeholder's question (unconfirmed until the emailed link is followed)."""
    _check_open(link)
    if honeypot:
        raise Honeypot()
    text, email = _clean(text, email)
    entry = _visible_entry(link, entry_id)
    _limits(link, email, ip)
    with transaction.atomic():
        question = Question.objects.create(share_link=link, entry=entry, text=text, email=email)
        transaction.on_commit(lambda: _enqueue("send_question_verification", question.pk))
    return question


def plus_one(
    *, link: ShareLink, question_id, email: str, ip: str, honeypot: str = ""
) -> QuestionVote:
    """+1 a confirmed question of this link (counted once the emailed link is
    followed; a second +1 from the same address changes nothing)."""
    _check_open(link)
    if honeypot:
        raise Honeypot()
    email = _email(email)
    question = (
        Question.objects.verified().filter(pk=question_id, share_link=link).first()
        if isinstance(question_id, int)
        else None
    )
    if question is None:
        raise ValidationError({"question": "No such question on this roadmap."})
    _limits(link, email, ip)
    existing = QuestionVote.objects.filter(question=question, email=email).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            vote = QuestionVote.objects.create(question=question, email=email)
            transaction.on_commit(lambda: _enqueue("send_vote_verification", vote.pk))
    except IntegrityError:  # a concurrent double click
        return QuestionVote.objects.get(question=question, email=email)
    return vote


def _enqueue(task_name: str, pk: int) -> None:
    from .. import tasks

    try:
        getattr(tasks, task_name).delay(pk)
    except Exception:
        log.warning("Could not enqueue %s %s", task_name, pk, exc_info=True)


def question_token(question: Question) -> str:
    return signing.dumps({"q": question.pk}, salt="questions.question")


def vote_token(vote: QuestionVote) -> str:
    return signing.dumps({"v": vote.pk}, salt="questions.vote")


def _load(token: str, salt: str, key: str) -> int:
    try:
        data = signing.loads(token, salt=salt, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        raise ValidationError({"token": "This link is invalid or has expired."}) from None
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, int):
        raise ValidationError({"token": "This link is invalid or has expired."})
    return value


def _feedback_text(question: Question) -> str:
    entry, link = question.entry, question.share_link
    return (
        f"Question on the shared roadmap “{link.roadmap.name}” (link “{link.label}”) "
        f"about “{entry.display_title}”:\n\n{question.text}"
    )


@transaction.atomic
def confirm_question(token: str) -> Question:
    """The asker followed the emailed link: the question counts and lands in
    the product's feedback inbox, linked to the entry's item (idempotent:
    a second click changes nothing)."""
    pk = _load(token, "questions.question", "q")
    question = (
        Question.objects.select_for_update(of=("self",))
        .select_related("share_link__roadmap__workspace", "entry__item__product")
        .filter(pk=pk)
        .first()
    )
    if question is None:
        raise ValidationError({"token": "This question no longer exists."})
    if question.verified_at is not None:
        return question
    link = question.share_link
    product = question.entry.item.product if question.entry.item_id else link.roadmap.product
    if product is None:
        first = link.roadmap.products.order_by("pk").first()
        product = first
    with activity.acting_as("visitor", label=question.email):
        found = None
        if product is not None:
            found = feedback.create_feedback(
                None,
                product=product,
                text=_feedback_text(question),
                source=Source.SHARED_ROADMAP,
                email=question.email,
                tags=["question"],
            )
            if question.entry.item_id:
                feedback.link_feedback(None, feedback=found, item=question.entry.item, triage=False)
        Question.objects.filter(pk=question.pk).update(verified_at=timezone.now(), feedback=found)
        question.refresh_from_db()
        activity.record(
            link.roadmap.workspace_id,
            "question.asked",
            question,
            object_title=question.entry.display_title,
            product=product,
            parent=found or link.roadmap,
        )
    return question


@transaction.atomic
def confirm_vote(token: str) -> QuestionVote:
    """A +1's emailed link was followed: it counts (idempotent)."""
    pk = _load(token, "questions.vote", "v")
    vote = (
        QuestionVote.objects.select_related("question__share_link__roadmap").filter(pk=pk).first()
    )
    if vote is None:
        raise ValidationError({"token": "This +1 no longer exists."})
    changed = QuestionVote.objects.filter(pk=vote.pk, verified_at__isnull=True).update(
        verified_at=timezone.now()
    )
    vote.refresh_from_db()
    if changed:
        question = vote.question
        with activity.acting_as("visitor", label=vote.email):
            activity.record(
                question.share_link.roadmap.workspace_id,
                "question.plus_one",
                question,
                object_title=question.text[:200],
                parent=question.feedback or question.share_link.roadmap,
            )
    return vote


def subject(prefix: str, title: str) -> str:
    """An email subject naming an entry: one line (a title may hold a line
    break, which a mail header must not), at most 150 characters."""
    return f"{prefix}: {' '.join(title.split())}"[:150]


def absolute(path: str) -> str:
    site = getattr(settings, "SITE_URL", "")
    return site.rstrip("/") + path if site else path


def send_question_verification(question_id: int) -> bool:
    """Email the link that makes a question count (skipped once confirmed)."""
    question = (
        Question.objects.select_related("share_link__roadmap", "entry__item")
        .filter(pk=question_id)
        .first()
    )
    if question is None or question.verified_at is not None:
        return False
    body = render_to_string(
        "questions/email/verify_question.txt",
        {
            "question": question,
            "roadmap": question.share_link.roadmap,
            "confirm_url": absolute(
                reverse("questions:confirm-question", args=[question_token(question)])
            ),
        },
    )
    send_mail(
        subject("Confirm your question", question.entry.display_title),
        body,
        settings.DEFAULT_FROM_EMAIL,
        [question.email],
    )
    return True


def send_vote_verification(vote_id: int) -> bool:
    vote = (
        QuestionVote.objects.select_related(
            "question__share_link__roadmap", "question__entry__item"
        )
        .filter(pk=vote_id)
        .first()
    )
    if vote is None or vote.verified_at is not None:
        return False
    body = render_to_string(
        "questions/email/verify_vote.txt",
        {
            "question": vote.question,
            "roadmap": vote.question.share_link.roadmap,
            "confirm_url": absolute(reverse("questions:confirm-vote", args=[vote_token(vote)])),
        },
    )
    send_mail(
        subject("Confirm your +1", vote.question.entry.display_title),
        body,
        settings.DEFAULT_FROM_EMAIL,
        [vote.email],
    )
    return True
