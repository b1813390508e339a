"""Screen-shaped reads: a discussion as its panel shows it, in a constant
number of queries (comments with authors, reactions, the watch state and the
workspace rule), however many comments and reactions there are."""

from dataclasses import dataclass, field

from .models import Comment, Reaction, Watch


@dataclass
class ReactionCount:
    emoji: str
    count: int
    mine: bool
    names: list[str]


@dataclass
class Thread:
    comment: "CommentRow"
    reactions: list[ReactionCount]
    replies: list["Thread"] = field(default_factory=list)


@dataclass
class CommentRow:
    """A comment as the panel shows it (read with ``.values()``: no model
    instance per comment on a hot path)."""

    pk: int
    parent_id: int | None
    author_id: int | None
    author_name: str
    body: str
    body_html: str
    version: int
    created_at: object
    edited_at: object
    deleted_at: object

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


FIELDS = (
    "pk",
    "parent_id",
    "author_id",
    "author__username",
    "author__first_name",
    "author__last_name",
    "body",
    "body_html",
    "version",
    "created_at",
    "edited_at",
    "deleted_at",
)


def _reactions(rows, user_id: int) -> dict[int, list[ReactionCount]]:
    """{comment id: [ReactionCount]} in the order reactions were given."""
    grouped: dict[int, dict[str, ReactionCount]] = {}
    for comment_id, emoji, uid, username in rows:
        per = grouped.setdefault(comment_id, {})
        rc = per.get(emoji)
        if rc is None:
            rc = per[emoji] = ReactionCount(emoji, 0, False, [])
        rc.count += 1
        rc.mine = rc.mine or uid == user_id
        rc.names.append(username)
    return {cid: list(per.values()) for cid, per in grouped.items()}


def threads(workspace, object_type: str, object_id: int, user_id: int) -> list[Thread]:
    """Top-level comments, oldest first, each with its replies (one level):
    two queries, whatever the number of comments and reactions."""
    rows = list(
        Comment.objects.in_workspace(workspace).on(object_type, object_id).values_list(*FIELDS)
    )
    reactions = _reactions(
        # By the comments' object (a join), not a list of ids: a long IN list
        # cost more to send than the rows it selects.
        Reaction.objects.filter(
            comment__workspace=workspace,
            comment__object_type=object_type,
            comment__object_id=object_id,
        )
        .order_by("id")
        .values_list("comment_id", "emoji", "user_id", "user__username"),
        user_id,
    )
    tops: dict[int, Thread] = {}
    order: list[Thread] = []
    for pk, parent, author, username, first, last, *rest in rows:
        name = "A deleted user" if author is None else f"{first} {last}".strip() or username
        c = CommentRow(pk, parent, author, name, *rest)
        thread = Thread(c, reactions.get(pk, []))
        if parent is None:
            tops[pk] = thread
            order.append(thread)
        elif parent in tops:
            tops[parent].replies.append(thread)
    # A deleted comment without replies leaves no trace in the panel.
    return [t for t in order if not (t.comment.is_deleted and not t.replies)]


def watched_by(user, workspace, *, limit: int = 100) -> list[dict]:
    """What ``user`` watches in ``workspace`` through a watch row (pressed
    Watch, commented, mentioned), newest first, each described by its type:
    one query for the rows and one per type for the objects."""
    from . import registry

    rows = list(
        Watch.objects.in_workspace(workspace)
        .filter(user=user, watching=True)
        .order_by("-updated_at", "-id")[:limit]
    )
    by_type: dict[str, list[int]] = {}
    for w in rows:
        by_type.setdefault(w.object_type, []).append(w.object_id)
    found = {}
    for label, ids in by_type.items():
        kind = registry.get(label)
        if kind is None:
            continue
        for obj in kind.queryset().in_workspace(workspace).filter(pk__in=ids):
            found[(label, obj.pk)] = {**registry.describe(kind, obj), "noun": kind.noun}
    return [
        found[(w.object_type, w.object_id)] for w in rows if (w.object_type, w.object_id) in found
    ]
