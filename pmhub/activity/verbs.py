"""Every verb the event log records, with what it means: the change feed's
``types`` filter and the audit log's verb filter accept these, and
docs/activity.md lists them. An app that records a verb of its own adds it
with ``register_verbs`` from its ``AppConfig.ready()``."""

_CRUD = {
    "product": "a product",
    "objective": "an objective",
    "key_result": "a key result",
    "competitor": "a competitor",
    "persona": "a persona",
    "metric": "a metric",
    "scoring_model": "a scoring model",
    "roadmap": "a roadmap",
    "milestone": "a roadmap milestone or release",
    "company": "a customer company",
    "person": "a customer contact",
    "feedback": "a piece of feedback",
    "hypothesis": "an item's hypothesis and learnings",
}

VERBS: dict[str, str] = {
    **{
        f"{noun}.{action}": f"{what} was {action}"
        for noun, what in _CRUD.items()
        for action in ("created", "updated", "deleted")
    },
    "workspace.created": "a workspace was created",
    "member.joined": "someone joined the workspace through an invite",
    "member.role_changed": "a member's role changed",
    "member.removed": "an admin removed a member",
    "member.left": "a member left the workspace",
    "invite.created": "an invite link was created",
    "invite.revoked": "an invite link was revoked",
    "vision.updated": "a product's vision was edited",
    "item.created": "a backlog item was created (by hand, from feedback or by a CSV import)",
    "item.updated": "a backlog item's fields changed (not its status)",
    "item.status_changed": "a backlog item's status changed (with the write's other fields)",
    "item.moved": "a backlog item was moved in the manual order",
    "item.deleted": "a backlog item was deleted",
    "item.score_changed": "a background rescoring changed an item's score",
    "scoring_model.activated": "a product switched to another scoring model",
    "roadmap_entry.added": "an item or card was put on a roadmap",
    "roadmap_entry.updated": "a roadmap entry's text, commitment or lane changed",
    "roadmap_entry.moved": "a roadmap entry moved (column, lane, order or dates)",
    "roadmap_entry.removed": "an entry was taken off a roadmap",
    "lane.added": "a lane was added to a roadmap",
    "lane.deleted": "a lane was deleted",
    "dependency.added": "a dependency between two roadmap entries was added",
    "dependency.removed": "a dependency was removed",
    "share_link.created": "a read-only share link was created",
    "share_link.revoked": "a share link was revoked",
    "feedback.state_changed": "feedback was triaged, archived or reopened",
    "insight.linked": "feedback was linked to a backlog item",
    "insight.updated": "an insight's snippet or importance changed",
    "insight.unlinked": "an insight was removed",
    "portal.updated": "a product's portal settings changed",
    "idea.published": "an item was published on the portal",
    "idea.updated": "a published idea's public text changed",
    "idea.unpublished": "an idea was taken off the portal",
    "idea.voted": "someone voted for a portal idea",
}


def register_verbs(verbs: dict[str, str]) -> None:
    """Add an app's own verbs (``{"webhook.created": "…"}``)."""
    VERBS.update(verbs)
