"""Feedback intake and triage: one piece of feedback or a batch (API, CSV
import, the portal, quick add), edits, state changes and deletion. The
customer behind a piece of feedback is matched by ``customers``; a change
that moves demand (received date, customer, deletion) requeues it."""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from pmhub import activity
from pmhub.accounts.services import require_editor
from pmhub.versioning import delete_versioned, save_versioned
from products.models import Product

from ..models import Company, Feedback, Person, Source, State
from .customers import match_customer
from .demand import mark_demand_dirty

MAX_TEXT = 20_000
MAX_BATCH = 1000


class BatchInvalid(Exception):
    """Some rows of a batch are invalid: ``rows`` is ``[{"index", "errors"}]``."""

    def __init__(self, rows: list[dict]):
        super().__init__(f"{len(rows)} invalid rows")
        self.rows = rows


def _clean_tags(tags) -> list[str]:
    if tags in (None, ""):
        return []
    if isinstance(tags, str):
        tags = re.split(r"[;,]", tags)
    if not isinstance(tags, list | tuple):
        raise ValidationError({"tags": "Tags must be a list of words."})
    return sorted({str(t).strip().lower()[:40] for t in tags if str(t).strip()})


def clean_feedback_fields(fields: dict) -> dict:
    """Validate feedback values (text, source, received_at, tags, state,
    external_id); ValidationError with field messages."""
    fields = dict(fields)
    errors = {}
    if "text" in fields:
        fields["text"] = (fields["text"] or "").replace("\r\n", "\n").strip()
        if not fields["text"]:
            errors["text"] = "The feedback has no text."
        elif len(fields["text"]) > MAX_TEXT:
            errors["text"] = f"The text is too long ({MAX_TEXT} characters at most)."
        elif "\x00" in fields["text"]:
            errors["text"] = "The text contains a NUL character."
    if "source" in fields and fields["source"] not in Source.values:
        errors["source"] = f"Source must be one of: {', '.join(Source.values)}."
    if "state" in fields and fields["state"] not in State.values:
        errors["state"] = f"State must be one of: {', '.join(State.values)}."
    if "tags" in fields:
        try:
            fields["tags"] = _clean_tags(fields["tags"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "external_id" in fields:
        fields["external_id"] = (fields["external_id"] or "").strip()[:200]
    if fields.get("received_at") is None:
        fields.pop("received_at", None)
    elif fields["received_at"] > timezone.now() + dt.timedelta(days=1):
        errors["received_at"] = "Feedback cannot be received in the future."
    if errors:
        raise ValidationError(errors)
    return fields


def _resolve_customer(product, customer: dict, person, company):
    if person is not None and person.workspace_id != product.workspace_id:
        raise ValidationError({"person": "No such person."})
    if company is not None and company.workspace_id != product.workspace_id:
        raise ValidationError({"company": "No such company."})
    if person is None and any(customer.values()):
        person, matched = match_customer(product.workspace, **customer)
        company = company or matched
    if company is None and person is not None:
        company = person.company
    return person, company


@transaction.atomic
def create_feedback(
    actor,
    *,
    product: Product,
    text: str,
    source: str = Source.EMAIL,
    person: Person | None = None,
    company: Company | None = None,
    email: str = "",
    name: str = "",
    company_name: str = "",
    domain: str = "",
    received_at=None,
    tags=(),
    external_id: str = "",
    state: str = State.NEW,
) -> Feedback:
    """Record one piece of feedback; the customer is matched by email and
    domain. With an ``external_id`` already used in this product, the
    existing feedback is returned unchanged (``_created`` is False)."""
    if actor is not None:
        require_editor(actor, product.workspace)
    fields = clean_feedback_fields(
        {
            "text": text,
            "source": source,
            "received_at": received_at,
            "tags": tags,
            "external_id": external_id,
            "state": state,
        }
    )
    if fields["external_id"]:
        existing = _by_external_id(product, fields["external_id"])
        if existing is not None:
            existing._created = False
            return existing
    customer = {"email": email, "name": name, "company_name": company_name, "domain": domain}
    person, company = _resolve_customer(product, customer, person, company)
    try:
        with transaction.atomic():  # a savepoint: losing the race below leaves the rest intact
            feedback = Feedback.objects.create(
                product=product,
                person=person,
                company=company,
                created_by=actor if actor is not None and actor.is_authenticated else None,
                **fields,
            )
    except IntegrityError:
        # A concurrent request (a webhook retry) stored the same external_id
        # between the check above and this insert: answer with its row.
        existing = (
            _by_external_id(product, fields["external_id"]) if fields["external_id"] else None
        )
        if existing is None:
            raise
        existing._created = False
        return existing
    feedback._created = True
    _record(actor, "feedback.created", feedback)
    return feedback


def _record(actor, verb: str, feedback: Feedback, changes=None) -> None:
    """A piece of feedback's event; its customer's page shows it (the company,
    else the person)."""
    activity.record(
        feedback.product.workspace_id,
        verb,
        feedback,
        changes=changes,
        object_title=feedback.text[:120],
        parent=feedback.company or feedback.person,
        actor=actor,
    )


def _by_external_id(product, external_id: str) -> Feedback | None:
    return Feedback.objects.filter(product=product, external_id=external_id).first()


@transaction.atomic
def create_feedback_batch(actor, *, rows: list[dict]) -> list[Feedback]:
    """Create up to MAX_BATCH pieces of feedback in one transaction (each row
    the keyword arguments of ``create_feedback``). Rows whose ``external_id``
    exists already change nothing. Bad rows raise BatchInvalid (each with
    its index and field messages) and nothing is created."""
    if len(rows) > MAX_BATCH:
        raise ValidationError({"non_field_errors": f"At most {MAX_BATCH} rows per request."})
    errors, result = [], []
    checked = set()
    seen: dict[tuple, int] = {}
    for index, row in enumerate(rows):
        product = row["product"]
        if product.workspace_id not in checked:
            require_editor(actor, product.workspace)
            checked.add(product.workspace_id)
        key = (product.pk, (row.get("external_id") or "").strip())
        if key[1] and key in seen:
            result.append(result[seen[key]])
            continue
        try:
            with transaction.atomic():
                result.append(create_feedback(None, **row))
        except ValidationError as exc:
            errors.append({"index": index, "errors": exc.message_dict})
            result.append(None)
            continue
        if key[1]:
            seen[key] = index
    if errors:
        raise BatchInvalid(errors)
    return result


FEEDBACK_EDIT_FIELDS = ("text", "source", "tags", "state", "received_at", "person", "company")


@transaction.atomic
def update_feedback(actor, *, feedback: Feedback, expected_version: int | None, fields: dict):
    require_editor(actor, feedback.product.workspace)
    unknown = set(fields) - set(FEEDBACK_EDIT_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    fields = clean_feedback_fields(fields)
    for key in ("person", "company"):
        if (
            fields.get(key) is not None
            and fields[key].workspace_id != feedback.product.workspace_id
        ):
            raise ValidationError({key: f"No such {key}."})
    old_values = activity.values_of(feedback, fields)
    saved = save_versioned(feedback, expected_version=expected_version, fields=fields)
    _record(
        actor,
        "feedback.updated",
        saved,
        activity.diff(old_values, activity.values_of(saved, fields)),
    )
    if {"received_at", "company", "person"} & set(fields):
        mark_demand_dirty(feedback.insights.values_list("item_id", flat=True))
    return saved


@transaction.atomic
def set_feedback_state(actor, *, feedback: Feedback, state: str) -> Feedback:
    """Archive, reopen or mark triaged (no version check: a triage click never conflicts)."""
    require_editor(actor, feedback.product.workspace)
    if state not in State.values:
        raise ValidationError({"state": "Unknown state."})
    # F(): the caller's copy may be stale; the version must still only go up.
    old_state = Feedback.objects.filter(pk=feedback.pk).values_list("state", flat=True).first()
    changed = (
        Feedback.objects.filter(pk=feedback.pk)
        .exclude(state=state)
        .update(state=state, version=F("version") + 1, updated_at=timezone.now())
    )
    feedback.refresh_from_db()
    if changed:
        _record(actor, "feedback.state_changed", feedback, {"state": [old_state, state]})
    return feedback


@transaction.atomic
def delete_feedback(actor, *, feedback: Feedback, expected_version: int | None = None) -> None:
    require_editor(actor, feedback.product.workspace)
    items = list(feedback.insights.values_list("item_id", flat=True))
    _record(actor, "feedback.deleted", feedback)
    delete_versioned(feedback, expected_version=expected_version)
    mark_demand_dirty(items)


def import_feedback(*, product: Product, rows: list[dict]) -> int:
    """Create checked CSV rows (``create_feedback`` arguments) inside the
    import's transaction; customers are matched by email and domain, and a
    row whose external id was imported before is skipped. Returns the
    number of pieces of feedback created."""
    created = 0
    for values in rows:
        feedback = create_feedback(None, product=product, **values)
        created += int(feedback._created)
    return created
