"""Screen-shaped reads: a discussion as its panel shows it, in a constant
number of queries (comments with authors, reactions, the watch state and the
workspace rule), however many comments and reactions there are."""

from dataclasses import dataclass, field

from .models import Comment, Watch


@dataclass
class ReactionCount:
    emoji: str
    count: int
    mine: bool
    names: list[str]


@dataclass
class Thread:
    comment: Comment
    reactions: list[ReactionCount]
    replies: list["Thread"] = field(default_factory=list)


def _reactions(comment: Comment, user_id: int) -> list[ReactionCount]:
    grouped: dict[str, ReactionCount] = {}
    for r in comment.reactions.all():  # prefetched
        rc = grouped.setdefault(r.emoji, ReactionCount(r.emoji, 0, False, []))
        rc.count += 1
        rc.mine = rc.mine or r.user_id == user_id
        rc.names.append(r.user.username)
    return list(grouped.values())


def threads(workspace, object_type: str, object_id: int, user_id: int) -> list[Thread]:
    """Top-level comments, oldest first, each with its replies (one level)."""
    rows = list(
        Comment.objects.in_workspace(workspace)
        .on(object_type, object_id)
        .select_related("author")
        .prefetch_related("reactions__user")
    )
    tops: dict[int, Thread] = {}
    order: list[Thread] = []
    for c in rows:
        thread = Thread(c, _reactions(c, user_id))
        if c.parent_id is None:
            tops[c.pk] = thread
            order.append(thread)
        elif c.parent_id in tops:
            tops[c.parent_id].replies.append(thread)
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
