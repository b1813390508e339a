"""Writes of feedback/, one module per sub-domain:

- ``customers``: companies and people, matched so nobody is recorded twice;
- ``intake``: feedback one by one, in batches and from CSV imports; triage;
- ``insights``: feedback linked to backlog items;
- ``demand``: customer demand queued, recomputed and handed to backlog/;
- ``portal``: portal settings, published ideas, public submissions and votes;
- ``notifications``: status emails and vote confirmations.

HTML views, the API, Celery tasks and the demo call them as
``services.link_feedback(...)``; the names below are the public ones.
Reads are in ``feedback.reads``."""

from pmhub.ratelimit import RateLimited

from .customers import (
    COMPANY_FIELDS,
    PERSON_FIELDS,
    clean_email,
    create_company,
    create_person,
    delete_company,
    delete_person,
    find_company,
    match_customer,
    update_company,
    update_person,
)
from .demand import (
    compute_item_demand,
    demand_signals,
    mark_decayed_demand,
    mark_demand_dirty,
    recompute_demand,
    sweep_demand,
)
from .insights import create_item_from_feedback, delete_insight, link_feedback, update_insight
from .intake import (
    FEEDBACK_EDIT_FIELDS,
    MAX_BATCH,
    MAX_TEXT,
    BatchInvalid,
    clean_feedback_fields,
    create_feedback,
    create_feedback_batch,
    delete_feedback,
    import_feedback,
    set_feedback_state,
    update_feedback,
)
from .notifications import (
    recipients,
    send_status_emails,
    send_vote_verification,
    status_email_consumer,
    status_email_recipients,
    status_news,
)
from .portal import (
    PORTAL_SUBMIT_EMAIL_LIMIT,
    PORTAL_SUBMIT_LIMIT,
    PORTAL_VOTE_EMAIL_LIMIT,
    PORTAL_VOTE_LIMIT,
    VOTE_LINK_MAX_AGE,
    cast_vote,
    confirm_vote,
    publish_idea,
    submit_portal_feedback,
    unpublish_idea,
    unsubscribe,
    unsubscribe_token,
    update_portal_settings,
    vote_token,
)

__all__ = [
    "COMPANY_FIELDS",
    "FEEDBACK_EDIT_FIELDS",
    "MAX_BATCH",
    "MAX_TEXT",
    "PERSON_FIELDS",
    "PORTAL_SUBMIT_EMAIL_LIMIT",
    "PORTAL_SUBMIT_LIMIT",
    "PORTAL_VOTE_EMAIL_LIMIT",
    "PORTAL_VOTE_LIMIT",
    "VOTE_LINK_MAX_AGE",
    "BatchInvalid",
    "RateLimited",
    "cast_vote",
    "clean_email",
    "clean_feedback_fields",
    "compute_item_demand",
    "confirm_vote",
    "create_company",
    "create_feedback",
    "create_feedback_batch",
    "create_item_from_feedback",
    "create_person",
    "delete_company",
    "delete_feedback",
    "delete_insight",
    "delete_person",
    "demand_signals",
    "find_company",
    "import_feedback",
    "link_feedback",
    "mark_decayed_demand",
    "mark_demand_dirty",
    "match_customer",
    "publish_idea",
    "recipients",
    "recompute_demand",
    "send_status_emails",
    "send_vote_verification",
    "set_feedback_state",
    "status_email_consumer",
    "status_email_recipients",
    "status_news",
    "submit_portal_feedback",
    "sweep_demand",
    "unpublish_idea",
    "unsubscribe",
    "unsubscribe_token",
    "update_company",
    "update_feedback",
    "update_insight",
    "update_person",
    "update_portal_settings",
    "vote_token",
]
