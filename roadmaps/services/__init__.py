"""Writes for roadmaps, one module per sub-domain: ``roadmaps`` (settings,
investment target, lanes), ``entries`` (add, edit, move, shift, remove),
``milestones`` (milestones and dependencies), ``sharing`` (share links and
their view counts) and ``changes`` (the change log and the shared page's
revision). HTML views, the API, the demo and the shared page call them as
``services.move_entry(...)``; the names are re-exported here.

Permissions: members read; editors (and above) edit roadmaps; share links
are created and revoked by admins and owners."""

from .changes import changelog_consumer, log_change, record_shipped, touch_roadmap
from .common import MAX_YEAR, MIN_YEAR, check_year, roadmap_product_ids, roadmap_products
from .entries import (
    ENTRY_FIELDS,
    BadMove,
    add_entry,
    move_entry,
    move_entry_by,
    remove_entry,
    shift_entry,
    update_entry,
)
from .milestones import (
    add_dependency,
    add_milestone,
    delete_milestone,
    dependency_warning,
    remove_dependency,
    update_milestone,
)
from .roadmaps import (
    ROADMAP_FIELDS,
    add_lane,
    create_roadmap,
    delete_lane,
    delete_roadmap,
    set_investment_target,
    update_roadmap,
)
from .sharing import (
    PASSWORD_ATTEMPTS,
    PASSWORD_WINDOW,
    TooManyAttempts,
    check_share_password,
    create_share_link,
    record_share_views,
    revoke_share_link,
    rotate_demo_link,
    touch_share_link,
)

__all__ = [
    "ENTRY_FIELDS",
    "MAX_YEAR",
    "MIN_YEAR",
    "PASSWORD_ATTEMPTS",
    "PASSWORD_WINDOW",
    "ROADMAP_FIELDS",
    "BadMove",
    "TooManyAttempts",
    "add_dependency",
    "add_entry",
    "add_lane",
    "add_milestone",
    "changelog_consumer",
    "check_share_password",
    "check_year",
    "create_roadmap",
    "create_share_link",
    "delete_lane",
    "delete_milestone",
    "delete_roadmap",
    "dependency_warning",
    "log_change",
    "move_entry",
    "move_entry_by",
    "record_share_views",
    "record_shipped",
    "remove_dependency",
    "remove_entry",
    "revoke_share_link",
    "roadmap_product_ids",
    "roadmap_products",
    "rotate_demo_link",
    "set_investment_target",
    "shift_entry",
    "touch_roadmap",
    "touch_share_link",
    "update_entry",
    "update_milestone",
    "update_roadmap",
]
