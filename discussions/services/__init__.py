"""Every write of discussions: comments, reactions, watches, notifications."""

from .comments import (
    delete_comment,
    edit_comment,
    may_comment,
    membership_of,
    post_comment,
    set_editors_only,
)
from .notifications import (
    deliver,
    digest_recipients,
    mark_all_read,
    mark_read,
    pending_recipients,
    read_unsubscribe_token,
    send_digest,
    send_pending_email,
    set_preference,
    unread_count,
    unsubscribe,
    unsubscribe_token,
)
from .reactions import add_reaction, remove_reaction, toggle_reaction
from .watching import is_watching, set_watch, watch_implicitly, watchers_of

__all__ = [
    "add_reaction",
    "delete_comment",
    "deliver",
    "digest_recipients",
    "edit_comment",
    "is_watching",
    "mark_all_read",
    "mark_read",
    "may_comment",
    "membership_of",
    "pending_recipients",
    "post_comment",
    "read_unsubscribe_token",
    "remove_reaction",
    "send_digest",
    "send_pending_email",
    "set_editors_only",
    "set_preference",
    "set_watch",
    "toggle_reaction",
    "unread_count",
    "unsubscribe",
    "unsubscribe_token",
    "watch_implicitly",
    "watchers_of",
]
