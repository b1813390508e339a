"""Comments: post (or reply), edit and delete your own, and the workspace
rule that only editors may comment. Each write records its event."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from pmhub import activity
from pmhub.accounts.models import EDIT_ROLES, Membership
from pmhub.templatetags.pmhub_tags import render_markdown
from pmhub.versioning import save_versioned

from .. import mentions, registry
from ..models import MAX_BODY, MAX_MENTIONS, Comment, DiscussionSettings
from .watching import watch_implicitly


def membership_of(actor, workspace) -> Membership:
    """The actor's membership; 404 when they are not a member."""
    membership = Membership.objects.filter(workspace=workspace, user=actor).first()
    if membership is None:
        raise Http404("No such workspace.")
    return membership


def may_comment(workspace, role: str) -> bool:
    if role in EDIT_ROLES:
        return True
    return not DiscussionSettings.objects.filter(workspace=workspace, editors_only=True).exists()


def _check_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write something first."})
    if len(body) > MAX_BODY:
        raise ValidationError(
            {
                "body": f"A comment holds at most {MAX_BODY:,} characters "
                f"(this one has {len(body):,})."
            }
        )
    return body


def _resolve_mentions(workspace, kind, obj, body: str) -> list[dict]:
    names = mentions.names_in(body)
    if len(names) > MAX_MENTIONS:
        raise ValidationError(
            {"body": f"Mention at most {MAX_MENTIONS} people in one comment ({len(names)} here)."}
        )
    members = mentions.members_named(workspace, names)
    blind = [u.username for u in members.values() if not kind.can_see(u, obj)]
    if blind:
        raise ValidationError(
            {"body": f"{', '.join('@' + n for n in sorted(blind))} cannot see this {kind.noun}."}
        )
    return [{"id": members[n].pk, "username": members[n].username} for n in names if n in members]


def _render(body: str, mentioned: list[dict]) -> str:
    return mentions.mark(render_markdown(body), mentioned)


def _event(comment, kind, obj, verb: str, changes: dict, actor) -> None:
    activity.record(
        comment.workspace_id,
        verb,
        comment,
        changes=changes,
        object_key=kind.key(obj),
        object_title=kind.title(obj),
        product=kind.product_id(obj),
        parent=obj,
        actor=actor,
    )


@transaction.atomic
def post_comment(
    actor, *, workspace, object_type: str, object_id: int, body: str, parent_id: int | None = None
) -> Comment:
    """A comment (or a reply to a top-level comment) on an object of
    ``workspace``. The author and everyone mentioned start watching it."""
    membership = membership_of(actor, workspace)
    kind, obj = registry.find(object_type, workspace, object_id)
    if not may_comment(workspace, membership.role):
        raise PermissionDenied("In this workspace only editors may comment.")
    body = _check_body(body)
    parent = None
    if parent_id is not None:
        parent = Comment.objects.filter(
            pk=parent_id, workspace=workspace, object_type=kind.label, object_id=obj.pk
        ).first()
        if parent is None:
            raise ValidationError({"parent": "Reply to a comment of this discussion."})
        if parent.parent_id is not None:
            parent = parent.parent  # one level of replies: a reply to a reply joins its thread
    mentioned = _resolve_mentions(workspace, kind, obj, body)
    comment = Comment.objects.create(
        workspace=workspace,
        object_type=kind.label,
        object_id=obj.pk,
        parent=parent,
        author=actor,
        body=body,
        body_html=_render(body, mentioned),
        mentions=mentioned,
    )
    _event(
        comment,
        kind,
        obj,
        "comment.created",
        {
            "body": [None, body],
            "mentions": [None, [m["id"] for m in mentioned]],
            "parent": [None, parent.pk if parent else None],
        },
        actor,
    )
    watch_implicitly(workspace, kind.label, obj.pk, [actor.pk, *(m["id"] for m in mentioned)])
    return comment


def _own(actor, comment: Comment):
    membership_of(actor, comment.workspace)
    if comment.author_id != actor.pk:
        raise PermissionDenied("You can only change your own comments.")
    if comment.deleted_at is not None:
        raise ValidationError({"body": "This comment was deleted."})
    return registry.find(comment.object_type, comment.workspace, comment.object_id)


@transaction.atomic
def edit_comment(actor, *, comment: Comment, body: str, expected_version: int | None) -> Comment:
    """Change your own comment's text: marked edited, the old text kept in
    the event (the history), new mentions notified."""
    kind, obj = _own(actor, comment)
    body = _check_body(body)
    old_body, old_mentions = comment.body, [m["id"] for m in comment.mentions]
    mentioned = _resolve_mentions(comment.workspace, kind, obj, body)
    comment = save_versioned(
        comment,
        expected_version=expected_version,
        fields={
            "body": body,
            "body_html": _render(body, mentioned),
            "mentions": mentioned,
            "edited_at": timezone.now(),
        },
    )
    new_ids = [m["id"] for m in mentioned]
    _event(
        comment,
        kind,
        obj,
        "comment.edited",
        {"body": [old_body, body], "mentions": [old_mentions, new_ids]},
        actor,
    )
    watch_implicitly(
        comment.workspace, kind.label, obj.pk, [i for i in new_ids if i not in old_mentions]
    )
    return comment


@transaction.atomic
def delete_comment(actor, *, comment: Comment, expected_version: int | None) -> Comment:
    """Delete your own comment: its text goes (kept in the event), its
    replies stay under a "deleted" mark."""
    kind, obj = _own(actor, comment)
    old_body = comment.body
    comment = save_versioned(
        comment,
        expected_version=expected_version,
        fields={"deleted_at": timezone.now(), "body": "", "body_html": "", "mentions": []},
    )
    comment.reactions.all().delete()
    _event(comment, kind, obj, "comment.deleted", {"body": [old_body, None]}, actor)
    return comment


@transaction.atomic
def set_editors_only(actor, *, workspace, editors_only: bool) -> DiscussionSettings:
    """Admins decide whether viewers may comment in their workspace."""
    membership = membership_of(actor, workspace)
    if not membership.can_admin:
        raise PermissionDenied("Only admins change who may comment.")
    row, _ = DiscussionSettings.objects.get_or_create(workspace=workspace)
    if row.editors_only != editors_only:
        before = row.editors_only
        row = save_versioned(
            row, expected_version=row.version, fields={"editors_only": editors_only}
        )
        activity.record(
            workspace,
            "discussion_settings.updated",
            row,
            object_title="Discussion settings",
            changes={"editors_only": [before, editors_only]},
            actor=actor,
        )
    return row
