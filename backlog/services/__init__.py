"""Writes for the backlog, one module per sub-domain: items, ranking, bulk
edits, custom fields, scoring models, recomputes, saved views, hypotheses
and CSV imports. HTML views, the API, Celery tasks and commands all call
these functions through this package (``services.move_item(...)``); every
write of the backlog app lives here."""

from .bulk import bulk_update_items
from .fields import clean_custom_values, create_custom_field, delete_custom_field
from .hypotheses import (
    HYPOTHESIS_FIELDS,
    create_hypothesis,
    delete_hypothesis,
    save_hypothesis,
    save_learnings,
    sync_launch_markers,
    update_hypothesis,
)
from .imports import create_imported_items
from .items import (
    INPUT_FIELDS,
    ITEM_FIELDS,
    M2M_FIELDS,
    create_item,
    delete_item,
    set_item_demand,
    update_item,
)
from .ranking import BadMove, MoveContention, move_item, move_item_by, move_item_to_top
from .recompute import recompute_scores, request_recompute, sweep_pending_recomputes
from .restore import item_snapshot, restore_item
from .saved_views import delete_view, save_view
from .scoring_models import (
    activate_scoring_model,
    create_backlog,
    create_scoring_model,
    delete_scoring_model,
    model_criteria,
    update_scoring_model,
)

__all__ = [
    "HYPOTHESIS_FIELDS",
    "INPUT_FIELDS",
    "ITEM_FIELDS",
    "M2M_FIELDS",
    "BadMove",
    "MoveContention",
    "activate_scoring_model",
    "bulk_update_items",
    "clean_custom_values",
    "create_backlog",
    "create_custom_field",
    "create_hypothesis",
    "create_imported_items",
    "create_item",
    "create_scoring_model",
    "delete_custom_field",
    "delete_hypothesis",
    "delete_item",
    "delete_scoring_model",
    "delete_view",
    "item_snapshot",
    "model_criteria",
    "move_item",
    "move_item_by",
    "move_item_to_top",
    "recompute_scores",
    "request_recompute",
    "restore_item",
    "save_hypothesis",
    "save_learnings",
    "save_view",
    "set_item_demand",
    "sweep_pending_recomputes",
    "sync_launch_markers",
    "update_hypothesis",
    "update_item",
    "update_scoring_model",
]
