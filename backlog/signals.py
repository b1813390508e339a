"""Signals that let downstream apps (feedback/, roadmaps/) react to backlog
changes without backlog/ importing them.

``item_status_changed`` is sent after the transaction that changed an item's
status commits (never for a rolled-back change), with keyword arguments
``item_id``, ``old_status``, ``new_status``, ``reason`` (the decline or
archive reason, else ``""``) and ``actor_id``.
"""

from django.db import transaction
from django.dispatch import Signal

item_status_changed = Signal()


def send_status_changed_on_commit(*, item_id, old_status, new_status, reason, actor_id):
    if old_status == new_status:
        return

    def send():
        item_status_changed.send(
            sender="backlog.Item",
            item_id=item_id,
            old_status=old_status,
            new_status=new_status,
            reason=reason or "",
            actor_id=actor_id,
        )

    transaction.on_commit(send)
