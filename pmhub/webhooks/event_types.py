"""The event types an endpoint can subscribe to.

An endpoint names verbs of the event log (``<noun>.<action>``, see
docs/activity.md); any well-formed verb is accepted, so a verb added to the
log later can be subscribed to at once. The settings page offers the common
ones as checkboxes, one group per kind of object, plus ``webhook.test``,
which only "send a test event" produces."""

import re

from .models import TEST_EVENT

VERB = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")

GROUPS: list[tuple[str, list[str]]] = [
    (
        "Backlog items",
        ["item.created", "item.updated", "item.status_changed", "item.moved", "item.deleted"],
    ),
    (
        "Roadmaps",
        [
            "roadmap.created",
            "roadmap.updated",
            "roadmap.deleted",
            "roadmap_entry.created",
            "roadmap_entry.moved",
            "roadmap_entry.deleted",
            "milestone.created",
            "milestone.updated",
            "milestone.deleted",
        ],
    ),
    ("Sharing", ["share_link.created", "share_link.revoked"]),
    ("Feedback", ["feedback.created", "insight.linked", "insight.unlinked"]),
    (
        "Products and strategy",
        [
            "product.created",
            "product.updated",
            "objective.created",
            "objective.updated",
            "key_result.updated",
        ],
    ),
    ("Members", ["member.role_changed"]),
    ("Webhooks", [TEST_EVENT]),
]

EVENT_TYPES: list[str] = [verb for _label, verbs in GROUPS for verb in verbs]


def is_verb(value) -> bool:
    return isinstance(value, str) and bool(VERB.match(value))
