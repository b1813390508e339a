"""The event types an endpoint can subscribe to, grouped by the object they
are about (the settings page shows one group of checkboxes per object).

These are the verbs of the event log (docs/activity.md) plus
``webhook.test``, which only "send a test event" produces."""

from .models import TEST_EVENT

GROUPS: list[tuple[str, list[str]]] = [
    (
        "Backlog items",
        [
            "item.created",
            "item.updated",
            "item.status_changed",
            "item.moved",
            "item.deleted",
        ],
    ),
    ("Roadmaps", ["roadmap_entry.added", "roadmap_entry.moved", "roadmap_entry.removed"]),
    ("Feedback", ["insight.linked", "insight.unlinked"]),
    ("Sharing", ["share_link.created", "share_link.revoked"]),
    ("Members", ["member.role_changed"]),
    ("Webhooks", [TEST_EVENT]),
]

EVENT_TYPES: list[str] = [verb for _label, verbs in GROUPS for verb in verbs]
