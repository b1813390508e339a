"""Emoji reactions on comments: one of each emoji per person, toggled."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from pmhub import activity

from .. import registry
from ..models import EMOJI, Comment, Reaction


def _check(actor, comment: Comment, emoji: str):
    from .comments import membership_of

    membership_of(actor, comment.workspace)
    if emoji not in EMOJI:
        raise ValidationError({"emoji": f"Pick one of {' '.join(EMOJI)}."})
    if comment.deleted_at is not None:
        raise ValidationError({"comment": "This comment was deleted."})
    return registry.find(comment.object_type, comment.workspace, comment.object_id)


def _record(comment, kind, obj, verb, emoji, actor):
    activity.record(
        comment.workspace_id,
        verb,
        comment,
        object_key=kind.key(obj),
        object_title=kind.title(obj),
        product=kind.product_id(obj),
        parent=obj,
        changes={"emoji": [None, emoji] if verb == "reaction.added" else [emoji, None]},
        actor=actor,
    )


@transaction.atomic
def add_reaction(actor, *, comment: Comment, emoji: str) -> Reaction:
    """React to a comment (again with the same emoji: nothing changes)."""
    kind, obj = _check(actor, comment, emoji)
    existing = Reaction.objects.filter(comment=comment, user=actor, emoji=emoji).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            reaction = Reaction.objects.create(comment=comment, user=actor, emoji=emoji)
    except IntegrityError:  # the same reaction from a second tab at once
        return Reaction.objects.get(comment=comment, user=actor, emoji=emoji)
    _record(comment, kind, obj, "reaction.added", emoji, actor)
    return reaction


@transaction.atomic
def remove_reaction(actor, *, comment: Comment, emoji: str) -> bool:
    """Take your reaction back; False when there was none."""
    kind, obj = _check(actor, comment, emoji)
    deleted, _ = Reaction.objects.filter(comment=comment, user=actor, emoji=emoji).delete()
    if deleted:
        _record(comment, kind, obj, "reaction.removed", emoji, actor)
    return bool(deleted)


def toggle_reaction(actor, *, comment: Comment, emoji: str) -> bool:
    """Add the reaction, or remove it if it is there; True when it is now on."""
    if Reaction.objects.filter(comment=comment, user=actor, emoji=emoji).exists():
        remove_reaction(actor, comment=comment, emoji=emoji)
        return False
    add_reaction(actor, comment=comment, emoji=emoji)
    return True
