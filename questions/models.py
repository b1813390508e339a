"""Questions from stakeholders on shared roadmaps (``docs/questions.md``): a
share link may allow them; a question names an entry of the link's roadmap
and an email address, counts once the emailed link is followed (it then
lands in the product's feedback inbox), and its answer is emailed to the
asker and to everyone who +1'd it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from feedback.models import Feedback
from pmhub.querysets import WorkspaceScopedQuerySet
from pmhub.versioning import Versioned
from roadmaps.models import Entry, ShareLink


class QuestionSettingsQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "share_link__roadmap__workspace"


class QuestionSettings(Versioned):
    """Whether a share link takes questions (kept here, keyed by the link,
    so roadmaps/ needs no column for it). No row: questions are off."""

    share_link = models.OneToOneField(
        ShareLink, on_delete=models.CASCADE, related_name="question_settings"
    )
    allow_questions = models.BooleanField(default=False)

    objects = QuestionSettingsQuerySet.as_manager()

    def __str__(self):
        return f"{self.share_link}: questions {'on' if self.allow_questions else 'off'}"


class QuestionQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "share_link__roadmap__workspace"

    def verified(self):
        """Questions whose asker followed the emailed link."""
        return self.filter(verified_at__isnull=False)

    def for_entry_block(self, link, entry):
        """What the entry's shared page lists: this link's verified questions
        on this entry, with their +1 counts, oldest first."""
        return (
            self.verified()
            .filter(share_link=link, entry=entry)
            .annotate(
                plus_ones=models.Count(
                    "votes", filter=Q(votes__verified_at__isnull=False), distinct=True
                )
            )
            .order_by("created_at", "id")
        )


class Question(Versioned):
    share_link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="questions")
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="questions")
    text = models.TextField()
    email = models.EmailField()
    verified_at = models.DateTimeField(null=True, blank=True)
    feedback = models.OneToOneField(
        Feedback, on_delete=models.SET_NULL, null=True, blank=True, related_name="question"
    )
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["share_link", "entry", "created_at"], name="question_link_entry"),
            models.Index(fields=["updated_at", "id"], name="question_updated"),
        ]

    def __str__(self):
        return self.text[:60]


class VoteQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "question__share_link__roadmap__workspace"


class QuestionVote(models.Model):
    """A +1: someone else wants the answer too (counted once verified)."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="votes")
    email = models.EmailField()
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = VoteQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "email"], name="question_vote_unique")
        ]

    def __str__(self):
        return f"+1 on {self.question_id}"


class AnswerEmailQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "question__share_link__roadmap__workspace"

    def unsent(self):
        return self.filter(sent_at__isnull=True)


class AnswerEmail(models.Model):
    """One email of one answer to one address: written in the transaction
    that saves the answer (pending), sent by a task after commit, and by
    the beat sweep if the task never ran. ``answer_version`` is the
    question's version the answer was saved at: an edited answer is sent
    again, once."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answer_emails")
    email = models.EmailField()
    answer_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = AnswerEmailQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["question", "email", "answer_version"], name="answer_email_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(sent_at__isnull=True), name="answer_email_unsent"
            )
        ]

    def __str__(self):
        return f"Answer {self.question_id} v{self.answer_version} to {self.email}"
