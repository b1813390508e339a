"""Notification kinds and the table that maps event verbs to them.

The ``notifications`` consumer of the event log (registered in ``apps.py``)
hands every batch of events to ``notify_consumer``, which looks each verb up
in ``RULES``: a list of ``(kind, recipients)`` where ``recipients(event,
batch)`` names the users to tell. A later verb plugs in with one line::

    kinds.add_rule("spec.review_requested", "review", kinds.user_ids_in("reviewers"))

(``register_kind`` first for a new kind). The first rule that names someone
for an event wins (a mention is not also a "comment on what I watch"); the
actor is never told of their own change; only current members are told.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class KindInfo:
    label: str
    default: str  # "immediate", "digest" or "off"


KINDS: dict[str, KindInfo] = {
    "mention": KindInfo("Mentions of me", "immediate"),
    "comment": KindInfo("Comments on what I watch", "digest"),
    "assigned": KindInfo("Assigned to me", "immediate"),
    "status": KindInfo("Status changes of what I watch", "digest"),
    "launch_review": KindInfo("Launch review verdicts for my items", "immediate"),
    "review": KindInfo("Spec reviews: asked of me, and verdicts on what I watch", "immediate"),
}


def register_kind(kind: str, label: str, default: str = "immediate") -> None:
    KINDS[kind] = KindInfo(label, default)


class Batch:
    """What the rules of one batch share, each read once for the whole batch."""

    def __init__(self, events):
        self.events = events
        self._watchers = None
        self._hypotheses = None
        self._item_owners = None

    def target_of(self, event) -> tuple[str, int]:
        """The discussed object: a comment's parent, else the event's object."""
        if event.object_type == "discussions.comment":
            return event.parent_type, event.parent_id
        if event.object_type == "specs.spec":  # a spec is discussed on its item's page
            return event.parent_type, event.parent_id
        if event.object_type == "backlog.hypothesis":
            return "backlog.item", self.item_owner_of_hypothesis(event)[0]
        return event.object_type, event.object_id

    def watchers(self, event) -> set[int]:
        if self._watchers is None:
            from .services.watching import watchers_of

            wanted = {self.target_of(e) for e in self.events if _uses_watchers(e.verb)}
            self._watchers = watchers_of(wanted)
        return self._watchers.get(self.target_of(event), set())

    def item_owner(self, event) -> set[int]:
        """The current owner of an item event's item (one query per batch)."""
        if self._item_owners is None:
            from backlog.models import Item

            ids = [e.object_id for e in self.events if e.object_type == "backlog.item"]
            self._item_owners = dict(
                Item.objects.filter(pk__in=ids, owner__isnull=False).values_list("pk", "owner_id")
            )
        owner = self._item_owners.get(event.object_id)
        return {owner} if owner else set()

    def item_owner_of_hypothesis(self, event) -> tuple[int | None, set[int]]:
        """(item id, {owner}) of a hypothesis event's item."""
        if self._hypotheses is None:
            from backlog.models import Hypothesis

            ids = [e.object_id for e in self.events if e.object_type == "backlog.hypothesis"]
            self._hypotheses = {
                hid: (item_id, owner_id)
                for hid, item_id, owner_id in Hypothesis.objects.filter(pk__in=ids).values_list(
                    "pk", "item_id", "item__owner_id"
                )
            }
        item_id, owner = self._hypotheses.get(event.object_id, (None, None))
        return item_id, {owner} if owner else set()


Recipients = Callable[[object, Batch], set[int]]


def mentioned(event, batch) -> set[int]:
    """Members mentioned by a new comment, or newly mentioned by an edit."""
    old, new = event.changes.get("mentions", [None, []])
    return set(new or []) - set(old or [])


def watchers(event, batch) -> set[int]:
    return batch.watchers(event)


def user_ids_in(field: str) -> Recipients:
    """The user id(s) a change sets ``field`` to (an item's new owner)."""

    def recipients(event, batch) -> set[int]:
        if field not in event.changes:
            return set()
        new = event.changes[field][1]
        values = new if isinstance(new, list) else [new]
        return {v for v in values if isinstance(v, int)}

    return recipients


def owner_at_creation(event, batch) -> set[int]:
    """An item created with an owner: they are assigned."""
    return batch.item_owner(event)


def launch_verdict(event, batch) -> set[int]:
    """Learnings written on a hypothesis: the launch review's verdict is in."""
    if "learnings" not in event.changes or not event.changes["learnings"][1]:
        return set()
    return batch.item_owner_of_hypothesis(event)[1]


RULES: dict[str, list[tuple[str, Recipients]]] = {
    "comment.created": [("mention", mentioned), ("comment", watchers)],
    "comment.edited": [("mention", mentioned)],
    "item.created": [("assigned", owner_at_creation)],
    "item.updated": [("assigned", user_ids_in("owner"))],
    "item.status_changed": [("assigned", user_ids_in("owner")), ("status", watchers)],
    "feedback.state_changed": [("status", watchers)],
    "hypothesis.updated": [("launch_review", launch_verdict)],
    "hypothesis.created": [("launch_review", launch_verdict)],
    "spec.review_requested": [("review", user_ids_in("reviewers"))],
    "spec.approved": [("review", watchers)],
    "spec.changes_requested": [("review", watchers)],
}


def add_rule(verb: str, kind: str, recipients: Recipients) -> None:
    """Tell ``recipients`` of events ``verb`` as notifications of ``kind``."""
    RULES.setdefault(verb, []).append((kind, recipients))


def verbs() -> set[str]:
    return set(RULES)


def _uses_watchers(verb: str) -> bool:
    return any(r is watchers for _k, r in RULES.get(verb, ()))


def notify_consumer(events) -> int:
    """The ``notifications`` consumer: one bulk insert for the batch and one
    email task per recipient who wants email at once (after commit)."""
    from .services.notifications import deliver

    batch = Batch(events)
    wanted: list[tuple[object, int, str]] = []  # (event, user id, kind)
    for event in events:
        told: set[int] = set()
        for kind, recipients in RULES.get(event.verb, ()):
            for uid in sorted(recipients(event, batch) - told - {event.actor_user_id}):
                wanted.append((event, uid, kind))
                told.add(uid)
    return deliver(wanted, batch)
