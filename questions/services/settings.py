"""Whether a share link takes questions. Share links are managed by admins
and owners, so is this switch; turning it on or off changes the shared
page, so the link's ETag moves with it (``roadmaps.services.touch_share_link``)."""

from django.db import IntegrityError, transaction

from pmhub import activity
from pmhub.accounts.services import require_admin
from roadmaps import services as roadmaps
from roadmaps.models import ShareLink

from ..models import Question, QuestionSettings


def questions_allowed(link: ShareLink) -> bool:
    """One query: whether the link takes questions."""
    return QuestionSettings.objects.filter(share_link=link, allow_questions=True).exists()


@transaction.atomic
def set_questions_allowed(actor, *, link: ShareLink, allowed: bool) -> QuestionSettings:
    require_admin(actor, link.roadmap.workspace)
    row = QuestionSettings.objects.filter(share_link=link).first()
    if row is None:
        try:
            with transaction.atomic():
                row = QuestionSettings.objects.create(share_link=link, allow_questions=False)
        except IntegrityError:  # created concurrently
            row = QuestionSettings.objects.get(share_link=link)
    if row.allow_questions == bool(allowed):
        return row
    QuestionSettings.objects.filter(pk=row.pk).update(allow_questions=bool(allowed))
    row.refresh_from_db()
    roadmaps.touch_share_link(link)
    activity.record(
        link.roadmap.workspace_id,
        "share_link.questions_changed",
        link,
        changes={"allow_questions": [not row.allow_questions, row.allow_questions]},
        object_title=link.label,
        parent=link.roadmap,
        actor=actor,
    )
    return row


@transaction.atomic
def carry_over_questions(actor, *, old_links, new_link: ShareLink) -> int:
    """A link replaced by a fresh one (the demo's, rotated on every seed)
    hands its questions over, so they stay on the page people now open.
    Only links of the same roadmap; returns how many moved."""
    require_admin(actor, new_link.roadmap.workspace)
    old_ids = [link.pk for link in old_links if link.roadmap_id == new_link.roadmap_id]
    if not old_ids:
        return 0
    moved = Question.objects.filter(share_link_id__in=old_ids).update(share_link=new_link)
    if moved:
        activity.record(
            new_link.roadmap.workspace_id,
            "share_link.questions_changed",
            new_link,
            changes={"questions_from": [old_ids, new_link.pk], "moved": [0, moved]},
            object_title=new_link.label,
            parent=new_link.roadmap,
            actor=actor,
        )
    return moved
