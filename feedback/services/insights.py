"""Insights: (a snippet of) feedback linked to a backlog item with an
importance. Every change requeues the item's demand; linking new feedback
marks it triaged."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backlog import services as backlog_services
from backlog.models import Item
from pmhub import activity
from pmhub.accounts.services import require_editor
from pmhub.versioning import delete_versioned, save_versioned

from ..models import Feedback, Importance, Insight, State
from .demand import mark_demand_dirty
from .intake import set_feedback_state


def _snippet(feedback: Feedback, start, end) -> tuple[str, int, int]:
    text = feedback.text
    try:
        start = int(start) if start not in (None, "") else 0
        end = int(end) if end not in (None, "") else 0
    except (TypeError, ValueError):
        raise ValidationError({"start": "The selection must be two character offsets."}) from None
    if start < 0 or end < start or end > len(text):
        raise ValidationError({"start": "The selection lies outside the feedback text."})
    if start == end or not text[start:end].strip():
        start, end = 0, len(text)  # nothing selected: the whole feedback
    snippet = text[start:end]
    # Trim whitespace without losing the offsets.
    lead = len(snippet) - len(snippet.lstrip())
    trail = len(snippet) - len(snippet.rstrip())
    start, end = start + lead, end - trail
    return text[start:end], start, end


@transaction.atomic
def link_feedback(
    actor,
    *,
    feedback: Feedback,
    item: Item,
    importance: str = Importance.IMPORTANT,
    start=None,
    end=None,
    triage: bool = True,
) -> Insight:
    """Link (a snippet of) feedback to a backlog item as an insight; the
    feedback counts as triaged (unless ``triage`` is off: a stakeholder's
    question arrives linked and still waits in the inbox) and the item's
    demand is recomputed in the background. Linking the same pair again
    updates the snippet. ``actor`` None is an intake without a member (a
    verified question from a shared roadmap)."""
    if actor is not None:
        require_editor(actor, feedback.product.workspace)
    if item.product_id != feedback.product_id:
        raise ValidationError({"item": "The item must be in the feedback's product."})
    if importance not in Importance.values:
        raise ValidationError({"importance": "Choose nice to have, important or critical."})
    snippet, start, end = _snippet(feedback, start, end)
    insight, created = Insight.objects.get_or_create(
        feedback=feedback,
        item=item,
        defaults={
            "snippet": snippet,
            "start": start,
            "end": end,
            "importance": importance,
            "created_by": actor,
        },
    )
    if not created:
        Insight.objects.filter(pk=insight.pk).update(
            snippet=snippet,
            start=start,
            end=end,
            importance=importance,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        insight.refresh_from_db()
    _record(actor, "insight.linked" if created else "insight.updated", insight, item)
    if triage and feedback.state == State.NEW:
        set_feedback_state(actor, feedback=feedback, state=State.TRIAGED)
    mark_demand_dirty([item.pk])
    return insight


def _record(actor, verb: str, insight: Insight, item: Item, changes=None) -> None:
    """An insight's event names its item (key, title), whose page shows it."""
    activity.record(
        item.product.workspace_id,
        verb,
        insight,
        changes=changes,
        object_key=item.key,
        object_title=item.title,
        product=item.product_id,
        parent=item,
        actor=actor,
    )


@transaction.atomic
def update_insight(actor, *, insight: Insight, expected_version: int | None, fields: dict):
    require_editor(actor, insight.feedback.product.workspace)
    unknown = set(fields) - {"importance", "start", "end"}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    if "importance" in fields and fields["importance"] not in Importance.values:
        raise ValidationError({"importance": "Choose nice to have, important or critical."})
    if "start" in fields or "end" in fields:
        snippet, start, end = _snippet(
            insight.feedback, fields.get("start", insight.start), fields.get("end", insight.end)
        )
        fields.update(snippet=snippet, start=start, end=end)
    old_values = activity.values_of(insight, fields)
    saved = save_versioned(insight, expected_version=expected_version, fields=fields)
    changes = activity.diff(old_values, activity.values_of(saved, fields))
    _record(actor, "insight.updated", saved, saved.item, changes)
    mark_demand_dirty([insight.item_id])
    return saved


@transaction.atomic
def delete_insight(actor, *, insight: Insight, expected_version: int | None = None) -> None:
    require_editor(actor, insight.feedback.product.workspace)
    item_id = insight.item_id
    _record(actor, "insight.unlinked", insight, insight.item)
    delete_versioned(insight, expected_version=expected_version)
    mark_demand_dirty([item_id])


@transaction.atomic
def create_item_from_feedback(
    actor,
    *,
    feedback: Feedback,
    title: str,
    importance: str = Importance.IMPORTANT,
    start=None,
    end=None,
    type: str = "feature",
) -> Insight:
    """One step: a new backlog item (at the bottom of the backlog) with this
    feedback linked to it as its first insight."""
    snippet, _s, _e = _snippet(feedback, start, end)
    item = backlog_services.create_item(
        actor,
        product=feedback.product,
        title=title,
        type=type,
        description=f"From customer feedback:\n\n> {snippet[:1000]}",
    )
    return link_feedback(
        actor, feedback=feedback, item=item, importance=importance, start=start, end=end
    )
