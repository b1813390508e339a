"""Objects of the kinds the demo data does not make, for the round-trip test."""

import datetime

from django.utils import timezone

from backlog.models import Item, SavedView
from discussions.models import (
    Comment,
    DiscussionSettings,
    EmailPreference,
    EmailState,
    Notification,
)
from feedback.models import DemandQueue, Subscription
from metrics.models import DirtyDay, Metric
from pmhub.activity.models import Event
from pmhub.webhooks.models import WebhookEndpoint
from products.models import Product, Vision, VisionVersion
from questions.models import AnswerEmail, Question, QuestionVote
from roadmaps.models import Lane, Roadmap, ShareLink

from .conftest import owner_of


def add_every_kind_of_object(workspace):
    owner = owner_of(workspace)
    product = Product.objects.filter(workspace=workspace).order_by("pk").first()
    vision, _ = Vision.objects.get_or_create(product=product)
    VisionVersion.objects.create(vision=vision, version=99, statement="Old words", edited_by=owner)
    metric = Metric.objects.filter(product__workspace=workspace).order_by("pk").first()
    DirtyDay.objects.create(metric=metric, day=datetime.date(2026, 1, 2))
    SavedView.objects.create(product=product, name="Mine", query="status=new", created_by=owner)
    roadmap = Roadmap.objects.filter(workspace=workspace).order_by("pk").first()
    Lane.objects.create(roadmap=roadmap, name="Platform lane", position=7)
    item = Item.objects.filter(product=product).order_by("pk").first()
    DemandQueue.objects.get_or_create(item=item)
    Subscription.objects.create(product=product, email="gone@example.com")
    WebhookEndpoint.objects.create(
        workspace=workspace, url="https://hooks.example.com/pmhub", secret="s", created_by=owner
    )
    # A child whose parent comes later in the table: loaded with a second pass.
    child = Item.objects.filter(product=product).order_by("pk")[1]
    parent = Item.objects.filter(product=product).order_by("-pk").first()
    Item.objects.filter(pk=child.pk).update(parent=parent)
    add_discussions_and_questions(workspace, owner, item)


def add_discussions_and_questions(workspace, owner, item):
    DiscussionSettings.objects.create(workspace=workspace, editors_only=True)
    EmailPreference.objects.create(user=owner, kind="mention", delivery="digest")
    comment = Comment.objects.filter(workspace=workspace).order_by("pk").first()
    event = Event.objects.filter(workspace=workspace).order_by("pk").last()
    for state in (EmailState.SENT, EmailState.NONE):
        Notification.objects.create(
            workspace=workspace,
            recipient=owner,
            kind="mention" if state else "comment",
            event_id=event.pk if state else None,
            verb="comment.created",
            actor_label="Someone",
            object_type=comment.object_type,
            object_id=comment.object_id,
            object_title="A title",
            url="/somewhere/",
            email_state=state,
            emailed_at=timezone.now() if state else None,
        )
    link = ShareLink.objects.filter(roadmap__workspace=workspace).order_by("pk").first()
    ShareLink.objects.filter(pk=link.pk).update(live=True)
    question = Question.objects.filter(share_link__roadmap__workspace=workspace).first()
    Question.objects.filter(pk=question.pk).update(
        verified_at=question.verified_at or timezone.now()
    )
    QuestionVote.objects.create(
        question=question, email="plus@example.com", verified_at=timezone.now()
    )
    AnswerEmail.objects.create(
        question=question, email="asker@example.com", answer_version=3, sent_at=timezone.now()
    )
