"""Writes of specs/, one module per sub-domain:

- ``specs``: create a spec and save its sections (each save a version);
- ``reviews``: request reviews, approve, request changes.

HTML views, the API and the demo call them as ``services.update_spec(...)``.
Reads (diffs, the Markdown export) are in ``specs.reads``."""

from .reviews import decide_review, refresh_state, request_review
from .specs import MAX_SECTION, clean_sections, create_spec, update_spec

__all__ = [
    "MAX_SECTION",
    "clean_sections",
    "create_spec",
    "decide_review",
    "refresh_state",
    "request_review",
    "update_spec",
]
