"""Writes of feedback/: customers, feedback intake, triage, insights, demand,
the public portal and its emails. HTML views, the API, Celery tasks and the
demo all call these functions."""

import datetime as dt
import logging
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from backlog import services as backlog_services
from backlog.models import Item, Status
from pmhub.accounts.services import require_editor, require_workspace_user
from pmhub.errors import DomainError
from pmhub.versioning import delete_versioned, save_versioned
from products.models import Product

from . import demand as demand_formula
from .models import (
    Company,
    DemandQueue,
    Feedback,
    Importance,
    Insight,
    Person,
    PortalSettings,
    PublicIdea,
    Segment,
    Source,
    State,
    Subscription,
    Vote,
)

log = logging.getLogger(__name__)

MAX_TEXT = 20_000
MAX_BATCH = 1000
FREE_MAIL = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "proton.me",
        "protonmail.com",
        "yandex.ru",
        "mail.com",
    ]
)
EMAIL_IN_TEXT = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
PORTAL_SUBMIT_LIMIT = (5, 600)  # submissions per IP and product, per seconds
PORTAL_VOTE_LIMIT = (30, 600)
VOTE_LINK_MAX_AGE = 7 * 24 * 3600


class BatchInvalid(Exception):
    """Some rows of a batch are invalid: ``rows`` is ``[{"index", "errors"}]``."""

    def __init__(self, rows: list[dict]):
        super().__init__(f"{len(rows)} invalid rows")
        self.rows = rows


class RateLimited(DomainError):
    """Too many requests from this address; try again later."""

    status_code = 429

    def __init__(self, message: str = "", *, retry_after: int = 60):
        super().__init__(message or "Too many submissions; please try again later.")
        self.retry_after = retry_after


def mask_emails(text: str) -> str:
    """Replace every email address in a text (the portal never shows one)."""
    return EMAIL_IN_TEXT.sub("[email hidden]", text or "")


# --- customers --------------------------------------------------------------------------


def _clean_domain(domain: str) -> str:
    domain = (domain or "").strip().lower()
    domain = re.sub(r"^https?://", "", domain).split("/")[0]
    if domain.startswith("www."):
        domain = domain[4:]
    return domain[:200]


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"email": "Enter a valid email address."}) from None
    return email.lower()


def _revenue(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({"annual_revenue": "Annual revenue must be a number."}) from None
    if not number.is_finite() or number < 0 or number >= Decimal("1e12"):
        raise ValidationError({"annual_revenue": "Annual revenue must be between 0 and 10¹²."})
    return number.quantize(Decimal("0.01"))


def find_company(workspace, *, domain: str = "", name: str = "") -> Company | None:
    """The workspace's company with this domain (case-insensitive), else this name."""
    domain = _clean_domain(domain)
    if domain:
        company = Company.objects.filter(workspace=workspace, domain__iexact=domain).first()
        if company is not None:
            return company
    name = (name or "").strip()
    if name:
        return Company.objects.filter(workspace=workspace, name__iexact=name).first()
    return None


def match_customer(
    workspace, *, email: str = "", name: str = "", company_name: str = "", domain: str = ""
) -> tuple[Person | None, Company | None]:
    """Find or create the person (by email) and company (by domain, the
    email's domain unless it is a free-mail one, or name) behind feedback,
    so the same customer is never recorded twice. Either may be None."""
    email = _clean_email(email)
    name = (name or "").strip()[:200]
    company_name = (company_name or "").strip()[:200]
    domain = _clean_domain(domain)
    if not domain and email:
        email_domain = email.rsplit("@", 1)[1]
        if email_domain not in FREE_MAIL:
            domain = email_domain
    person = (
        Person.objects.filter(workspace=workspace, email__iexact=email)
        .select_related("company")
        .first()
        if email
        else None
    )
    company = find_company(workspace, domain=domain, name=company_name)
    if company is None and person is not None and person.company_id:
        company = person.company
    if company is None and (company_name or domain):
        company = _get_or_create(
            Company,
            Q(domain__iexact=domain) if domain else Q(name__iexact=company_name),
            workspace=workspace,
            name=company_name or domain,
            domain=domain,
        )
    if person is None and (email or name):
        if email:
            person = _get_or_create(
                Person,
                Q(email__iexact=email),
                workspace=workspace,
                name=name,
                email=email,
                company=company,
            )
        else:
            person = Person.objects.create(workspace=workspace, name=name, company=company)
    if person is not None and company is not None and person.company_id is None:
        # A new version, so API readers' ETags (If-None-Match / If-Match) see the change.
        Person.objects.filter(pk=person.pk).update(
            company=company, version=F("version") + 1, updated_at=timezone.now()
        )
        person.company = company
    return person, company


def _get_or_create(model, match: Q, *, workspace, **values):
    """Create a row unless a concurrent request just did (the unique index decides)."""
    existing = model.objects.filter(match, workspace=workspace).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return model.objects.create(workspace=workspace, **values)
    except IntegrityError:
        return model.objects.get(match, workspace=workspace)


COMPANY_FIELDS = ("name", "domain", "segment", "plan", "annual_revenue", "owner")
PERSON_FIELDS = ("name", "email", "company")


def _check_company(workspace, fields: dict, pk=None) -> dict:
    fields = dict(fields)
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"]:
            raise ValidationError({"name": "Name the company."})
    if "domain" in fields:
        fields["domain"] = _clean_domain(fields["domain"])
        if (
            fields["domain"]
            and Company.objects.filter(workspace=workspace, domain__iexact=fields["domain"])
            .exclude(pk=pk)
            .exists()
        ):
            raise ValidationError({"domain": "Another company already has this domain."})
    if "segment" in fields and fields["segment"] not in Segment.values:
        raise ValidationError({"segment": "Unknown segment."})
    if "annual_revenue" in fields:
        fields["annual_revenue"] = _revenue(fields["annual_revenue"])
    if fields.get("owner") is not None:
        require_workspace_user(workspace.pk, fields["owner"])
    return fields


@transaction.atomic
def create_company(actor, *, workspace, name: str, **fields) -> Company:
    require_editor(actor, workspace)
    unknown = set(fields) - set(COMPANY_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown field."))
    fields = _check_company(workspace, {"name": name, **fields})
    company = Company(workspace=workspace, **fields)
    company.full_clean(validate_constraints=False)
    company.save()
    return company


@transaction.atomic
def update_company(actor, *, company: Company, expected_version: int | None, fields: dict):
    require_editor(actor, company.workspace)
    before = (company.annual_revenue, company.segment)
    fields = _check_company(company.workspace, fields, pk=company.pk)
    company = save_versioned(company, expected_version=expected_version, fields=fields)
    if (company.annual_revenue, company.segment) != before:
        mark_demand_dirty(
            Insight.objects.filter(feedback__company=company).values_list("item_id", flat=True)
        )
    return company


@transaction.atomic
def delete_company(actor, *, company: Company, expected_version: int | None = None) -> None:
    require_editor(actor, company.workspace)
    items = list(
        Insight.objects.filter(feedback__company=company).values_list("item_id", flat=True)
    )
    delete_versioned(company, expected_version=expected_version)
    mark_demand_dirty(items)


def _check_person(workspace, fields: dict, pk=None) -> dict:
    fields = dict(fields)
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()[:200]
    if "email" in fields:
        fields["email"] = _clean_email(fields["email"])
        if (
            fields["email"]
            and Person.objects.filter(workspace=workspace, email__iexact=fields["email"])
            .exclude(pk=pk)
            .exists()
        ):
            raise ValidationError({"email": "Another person already has this email."})
    if fields.get("company") is not None and fields["company"].workspace_id != workspace.pk:
        raise ValidationError({"company": "No such company."})
    if not fields.get("name", "x") and not fields.get("email", "x"):
        raise ValidationError({"name": "Give a name or an email."})
    return fields


@transaction.atomic
def create_person(actor, *, workspace, name: str = "", email: str = "", company=None) -> Person:
    require_editor(actor, workspace)
    fields = _check_person(workspace, {"name": name, "email": email, "company": company})
    if not fields["name"] and not fields["email"]:
        raise ValidationError({"name": "Give a name or an email."})
    return Person.objects.create(workspace=workspace, **fields)


@transaction.atomic
def update_person(actor, *, person: Person, expected_version: int | None, fields: dict):
    require_editor(actor, person.workspace)
    fields = _check_person(person.workspace, fields, pk=person.pk)
    return save_versioned(person, expected_version=expected_version, fields=fields)


@transaction.atomic
def delete_person(actor, *, person: Person, expected_version: int | None = None) -> None:
    require_editor(actor, person.workspace)
    # Their feedback becomes anonymous: each piece then counts as a customer of its own.
    items = list(Insight.objects.filter(feedback__person=person).values_list("item_id", flat=True))
    delete_versioned(person, expected_version=expected_version)
    mark_demand_dirty(items)


# --- feedback intake ----------------------------------------------------------------------


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
    return feedback


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
    saved = save_versioned(feedback, expected_version=expected_version, fields=fields)
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
    Feedback.objects.filter(pk=feedback.pk).exclude(state=state).update(
        state=state, version=F("version") + 1, updated_at=timezone.now()
    )
    feedback.refresh_from_db()
    return feedback


@transaction.atomic
def delete_feedback(actor, *, feedback: Feedback, expected_version: int | None = None) -> None:
    require_editor(actor, feedback.product.workspace)
    items = list(feedback.insights.values_list("item_id", flat=True))
    delete_versioned(feedback, expected_version=expected_version)
    mark_demand_dirty(items)


# --- insights ---------------------------------------------------------------------------------


def _snippet(feedback: Feedback, start, end) -> tuple[str, int, int]:
    text = feedback.text
    try:
        start = int(start) if start not in (None, "") else 0
        end = int(end) if end not in (None, "") else 0
    except (TypeError, ValueError):
        raise ValidationError({"start": "The selection must be two character offsets."}) from None
    if start < 0 or end < start or end > len(text):
        raise ValidationError({"start": "The selection lies outside the feedback text."})
    if start == end or not text[start:end].strip():
        start, end = 0, len(text)  # nothing selected: the whole feedback
    snippet = text[start:end]
    # Trim whitespace without losing the offsets.
    lead = len(snippet) - len(snippet.lstrip())
    trail = len(snippet) - len(snippet.rstrip())
    start, end = start + lead, end - trail
    return text[start:end], start, end


@transaction.atomic
def link_feedback(
    actor,
    *,
    feedback: Feedback,
    item: Item,
    importance: str = Importance.IMPORTANT,
    start=None,
    end=None,
) -> Insight:
    """Link (a snippet of) feedback to a backlog item as an insight; the
    feedback counts as triaged and the item's demand is recomputed in the
    background. Linking the same pair again updates the snippet."""
    require_editor(actor, feedback.product.workspace)
    if item.product_id != feedback.product_id:
        raise ValidationError({"item": "The item must be in the feedback's product."})
    if importance not in Importance.values:
        raise ValidationError({"importance": "Choose nice to have, important or critical."})
    snippet, start, end = _snippet(feedback, start, end)
    insight, created = Insight.objects.get_or_create(
        feedback=feedback,
        item=item,
        defaults={
            "snippet": snippet,
            "start": start,
            "end": end,
            "importance": importance,
            "created_by": actor,
        },
    )
    if not created:
        Insight.objects.filter(pk=insight.pk).update(
            snippet=snippet,
            start=start,
            end=end,
            importance=importance,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        insight.refresh_from_db()
    if feedback.state == State.NEW:
        set_feedback_state(actor, feedback=feedback, state=State.TRIAGED)
    mark_demand_dirty([item.pk])
    return insight


@transaction.atomic
def update_insight(actor, *, insight: Insight, expected_version: int | None, fields: dict):
    require_editor(actor, insight.feedback.product.workspace)
    unknown = set(fields) - {"importance", "start", "end"}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    if "importance" in fields and fields["importance"] not in Importance.values:
        raise ValidationError({"importance": "Choose nice to have, important or critical."})
    if "start" in fields or "end" in fields:
        snippet, start, end = _snippet(
            insight.feedback, fields.get("start", insight.start), fields.get("end", insight.end)
        )
        fields.update(snippet=snippet, start=start, end=end)
    saved = save_versioned(insight, expected_version=expected_version, fields=fields)
    mark_demand_dirty([insight.item_id])
    return saved


@transaction.atomic
def delete_insight(actor, *, insight: Insight, expected_version: int | None = None) -> None:
    require_editor(actor, insight.feedback.product.workspace)
    item_id = insight.item_id
    delete_versioned(insight, expected_version=expected_version)
    mark_demand_dirty([item_id])


@transaction.atomic
def create_item_from_feedback(
    actor,
    *,
    feedback: Feedback,
    title: str,
    importance: str = Importance.IMPORTANT,
    start=None,
    end=None,
    type: str = "feature",
) -> Insight:
    """One step: a new backlog item (at the bottom of the backlog) with this
    feedback linked to it as its first insight."""
    snippet, _s, _e = _snippet(feedback, start, end)
    item = backlog_services.create_item(
        actor,
        product=feedback.product,
        title=title,
        type=type,
        description=f"From customer feedback:\n\n> {snippet[:1000]}",
    )
    return link_feedback(
        actor, feedback=feedback, item=item, importance=importance, start=start, end=end
    )


# --- demand -----------------------------------------------------------------------------------


def mark_demand_dirty(item_ids) -> None:
    """Queue items for a demand recompute in the caller's transaction; the
    task is enqueued after commit, and the sweep finishes lost work."""
    ids = sorted({int(i) for i in item_ids})
    if not ids:
        return
    now = timezone.now()
    DemandQueue.objects.bulk_create(
        [DemandQueue(item_id=i, marked_at=now) for i in ids], ignore_conflicts=True
    )
    DemandQueue.objects.filter(item_id__in=ids).update(marked_at=now)
    transaction.on_commit(lambda: _enqueue_demand(ids))


def _enqueue_demand(ids: list[int]) -> None:
    from .tasks import recompute_demand

    try:
        recompute_demand.delay(ids)
    except Exception:  # broker down: the sweep will do it
        log.warning("Could not enqueue demand recompute for %s", ids, exc_info=True)


def portal_settings(product, *, create: bool = False) -> PortalSettings:
    """The product's portal and demand settings. Reads write nothing: without
    a row, an unsaved default (portal off, default weights) comes back;
    ``create=True`` (for a write) stores it first."""
    row = PortalSettings.objects.filter(product=product).first()
    if row is not None or not create:
        return row or PortalSettings(product=product)
    try:
        with transaction.atomic():
            return PortalSettings.objects.create(product=product)
    except IntegrityError:
        return PortalSettings.objects.get(product=product)


def customer_key(feedback_id, person_id, company_id) -> str:
    """Who counts as one customer in demand: the company, else the person,
    else the anonymous piece of feedback itself."""
    if company_id:
        return f"c:{company_id}"
    return f"p:{person_id}" if person_id else f"f:{feedback_id}"


def demand_signals(item_id: int, *, now=None) -> list[demand_formula.Signal]:
    now = now or timezone.now()
    rows = Insight.objects.filter(item_id=item_id).values_list(
        "feedback_id",
        "feedback__person_id",
        "feedback__company_id",
        "feedback__company__annual_revenue",
        "feedback__company__segment",
        "importance",
        "feedback__received_at",
    )
    signals = []
    for feedback_id, person_id, company_id, revenue, segment, importance, received in rows:
        signals.append(
            demand_formula.Signal(
                customer=customer_key(feedback_id, person_id, company_id),
                revenue=float(revenue or 0),
                segment=segment or Segment.OTHER,
                importance=importance,
                age_days=max(0.0, (now - received).total_seconds() / 86400),
            )
        )
    return signals


def compute_item_demand(item_id: int, product, *, now=None) -> tuple[float, int]:
    """(demand, number of customers) of an item, by the formula in demand.py."""
    settings_row = portal_settings(product)
    signals = demand_signals(item_id, now=now)
    value = demand_formula.compute(
        signals, half_life_days=settings_row.half_life_days, weights=settings_row.weights()
    )
    return value, len({s.customer for s in signals})


def _changed_enough(old: float | None, new: float) -> bool:
    """Whether a recomputed demand is worth storing: any change to or from
    nothing or zero, else more than 0.1 % (a day of decay at a 90-day
    half-life is 0.8 %)."""
    if old is None or old == 0 or new == 0:
        return old != new
    return abs(new - old) > 0.001 * abs(old)


def recompute_demand(item_ids) -> int:
    """Recompute and store the demand of queued items (idempotent). Each item
    is locked while it is recomputed, so two workers never record the same
    change twice; its queue row is removed only if nobody re-marked it
    meanwhile. Returns the number of items processed."""
    done = 0
    products = {}
    for item_id in sorted({int(i) for i in item_ids}):
        with transaction.atomic():
            row = (
                Item.objects.select_for_update()
                .filter(pk=item_id)
                .values_list("product_id", "demand")
                .first()
            )
            if row is None:  # deleted meanwhile: its queue row went with it
                continue
            product_id, current = row
            marked_at = (
                DemandQueue.objects.filter(item_id=item_id)
                .values_list("marked_at", flat=True)
                .first()
            )
            if product_id not in products:
                products[product_id] = Product.objects.get(pk=product_id)
            value, customers = compute_item_demand(item_id, products[product_id])
            # Seconds of decay between two recomputes are not worth a new score.
            if _changed_enough(current, value):
                backlog_services.set_item_demand(
                    item_id=item_id,
                    demand=value,
                    detail=f"Customer demand {value:g} from {customers} customer"
                    f"{'s' if customers != 1 else ''}",
                )
            if marked_at is not None:
                DemandQueue.objects.filter(item_id=item_id, marked_at=marked_at).delete()
        done += 1
    return done


def sweep_demand(limit: int = 500) -> int:
    """Periodic: recompute whatever is still queued (a lost task, a broker outage)."""
    ids = list(DemandQueue.objects.order_by("marked_at").values_list("item_id", flat=True)[:limit])
    return recompute_demand(ids) if ids else 0


def mark_decayed_demand() -> int:
    """Periodic (daily): demand decays with age, so every item with insights
    is queued again."""
    ids = list(Insight.objects.values_list("item_id", flat=True).distinct())
    with transaction.atomic():
        mark_demand_dirty(ids)
    return len(ids)


PANEL_ROWS = 20


def item_demand_summary(item) -> dict:
    """What the item page shows: the latest insights with their customers,
    the distinct customers and the total revenue asking. Three queries,
    whatever the number of insights."""
    rows = list(
        Insight.objects.filter(item=item).values_list(
            "feedback_id",
            "feedback__person_id",
            "feedback__company_id",
            "feedback__company__annual_revenue",
        )
    )
    customers, revenue_by_company = set(), {}
    for feedback_id, person_id, company_id, revenue in rows:
        customers.add(customer_key(feedback_id, person_id, company_id))
        if company_id:
            revenue_by_company[company_id] = revenue or 0
    insights = list(
        Insight.objects.filter(item=item)
        .for_item_panel()
        .order_by("-feedback__received_at", "-id")[:PANEL_ROWS]
    )
    return {
        "insights": insights,
        "insight_count": len(rows),
        "customers": len(customers),
        "revenue": sum(revenue_by_company.values()),
        "demand": item.demand,
        "pending": DemandQueue.objects.filter(item_id=item.pk).exists(),
        "formula": demand_formula.FORMULA,
    }


# --- portal: settings and public ideas ------------------------------------------------------


@transaction.atomic
def update_portal_settings(actor, *, product, expected_version: int | None, fields: dict):
    require_editor(actor, product.workspace)
    unknown = set(fields) - {"enabled", "title", "intro", "half_life_days", "segment_weights"}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown setting."))
    row = portal_settings(product, create=True)
    if "segment_weights" in fields:
        weights = fields["segment_weights"] or {}
        if not isinstance(weights, dict) or set(weights) - set(Segment.values):
            raise ValidationError({"segment_weights": "Weights are keyed by segment."})
        try:
            weights = {k: float(v) for k, v in weights.items()}
        except (TypeError, ValueError):
            raise ValidationError({"segment_weights": "Weights must be numbers."}) from None
        if any(not (0 <= v <= 100) for v in weights.values()):
            raise ValidationError({"segment_weights": "Weights must be between 0 and 100."})
        fields["segment_weights"] = weights
    if "half_life_days" in fields:
        try:
            fields["half_life_days"] = int(fields["half_life_days"])
        except (TypeError, ValueError):
            raise ValidationError({"half_life_days": "A whole number of days."}) from None
        if not 1 <= fields["half_life_days"] <= 3650:
            raise ValidationError({"half_life_days": "Between 1 and 3650 days."})
    before = (row.half_life_days, row.weights())
    saved = save_versioned(row, expected_version=expected_version, fields=fields)
    if (saved.half_life_days, saved.weights()) != before:
        mark_demand_dirty(
            Insight.objects.filter(item__product=product).values_list("item_id", flat=True)
        )
    return saved


@transaction.atomic
def publish_idea(
    actor, *, item: Item, public_title: str, public_description: str = ""
) -> PublicIdea:
    """Show an item on the product's portal (or change what it shows)."""
    require_editor(actor, item.product.workspace)
    public_title = (public_title or "").strip()[:200]
    if not public_title:
        raise ValidationError({"public_title": "Give the idea a public title."})
    idea, created = PublicIdea.objects.get_or_create(
        item=item,
        defaults={
            "product_id": item.product_id,
            "public_title": public_title,
            "public_description": (public_description or "").strip(),
        },
    )
    if not created:
        idea = save_versioned(
            idea,
            expected_version=None,
            fields={
                "public_title": public_title,
                "public_description": (public_description or "").strip(),
            },
        )
    return idea


@transaction.atomic
def unpublish_idea(actor, *, idea: PublicIdea) -> None:
    require_editor(actor, idea.product.workspace)
    idea.delete()


# --- portal: public writes ----------------------------------------------------------------


def _rate_limit(scope: str, key: str, limit: tuple[int, int]) -> None:
    """At most ``limit[0]`` hits per ``limit[1]`` seconds; RateLimited beyond."""
    count, window = limit
    cache_key = f"feedback-rl:{scope}:{key}"
    if cache.add(cache_key, 1, timeout=window):
        return
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window)
        return
    if hits > count:
        raise RateLimited(retry_after=window)


def submit_portal_feedback(*, product, text: str, email: str, name: str = "", ip: str) -> Feedback:
    """Feedback from the public portal form (no account). Rate-limited per
    address: beyond the limit RateLimited (429) and nothing is created."""
    settings_row = portal_settings(product)
    if not settings_row.enabled:
        raise PermissionDenied("The portal is off.")
    errors = {}
    if not (text or "").strip():
        errors["text"] = "Tell us what you need."
    try:
        email = _clean_email(email)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not email and "email" not in errors:
        errors["email"] = "We need your email to tell you about progress."
    if errors:
        raise ValidationError(errors)
    _rate_limit("submit", f"{product.pk}:{ip}", PORTAL_SUBMIT_LIMIT)
    return create_feedback(
        None,
        product=product,
        text=text,
        source=Source.PORTAL,
        email=email,
        name=(name or "")[:200],
    )


def cast_vote(*, idea: PublicIdea, email: str = "", user=None, ip: str = "") -> Vote:
    """A vote: counted at once for a logged-in account, else after the
    emailed link is followed. One vote per idea and email (a second attempt
    returns the first vote and counts nothing)."""
    if not portal_settings(idea.product).enabled:
        raise PermissionDenied("The portal is off.")
    if user is not None and user.is_authenticated:
        email = (user.email or f"user-{user.pk}@accounts.invalid").lower()
    else:
        user = None
        email = _clean_email(email)
        if not email:
            raise ValidationError({"email": "Enter your email to vote."})
        _rate_limit("vote", f"{idea.product_id}:{ip}", PORTAL_VOTE_LIMIT)
    existing = Vote.objects.filter(idea=idea).filter(
        Q(email__iexact=email) | Q(user=user) if user else Q(email__iexact=email)
    )
    vote = existing.first()
    if vote is not None:
        vote._created = False
        if vote.verified_at is None and user is not None:
            Vote.objects.filter(pk=vote.pk).update(verified_at=timezone.now(), user=user)
            vote.refresh_from_db()
        return vote
    try:
        with transaction.atomic():
            vote = Vote.objects.create(
                idea=idea,
                email=email,
                user=user,
                verified_at=timezone.now() if user is not None else None,
            )
    except IntegrityError:  # a concurrent double click
        vote = existing.first()
        vote._created = False
        return vote
    vote._created = True
    if user is None:
        transaction.on_commit(lambda: _enqueue_verification(vote.pk))
    return vote


def _enqueue_verification(vote_id: int) -> None:
    from .tasks import send_vote_verification

    try:
        send_vote_verification.delay(vote_id)
    except Exception:
        log.warning("Could not enqueue vote verification %s", vote_id, exc_info=True)


def vote_token(vote: Vote) -> str:
    return signing.dumps({"v": vote.pk}, salt="feedback.vote")


def confirm_vote(token: str) -> Vote:
    """Count a vote whose emailed link was followed (idempotent)."""
    try:
        data = signing.loads(token, salt="feedback.vote", max_age=VOTE_LINK_MAX_AGE)
    except signing.BadSignature:
        raise ValidationError({"token": "This link is invalid or has expired."}) from None
    vote = Vote.objects.select_related("idea__product__workspace").filter(pk=data.get("v")).first()
    if vote is None:
        raise ValidationError({"token": "This vote no longer exists."})
    Vote.objects.filter(pk=vote.pk, verified_at__isnull=True).update(verified_at=timezone.now())
    vote.refresh_from_db()
    return vote


def unsubscribe_token(product_id: int, email: str) -> str:
    return signing.dumps({"p": product_id, "e": email.lower()}, salt="feedback.unsubscribe")


def unsubscribe(token: str) -> Subscription:
    """Stop a product's portal emails to an address (from the link in every email)."""
    try:
        data = signing.loads(token, salt="feedback.unsubscribe")
    except signing.BadSignature:
        raise ValidationError({"token": "This link is invalid."}) from None
    product = Product.objects.filter(pk=data.get("p")).first()
    if product is None:
        raise ValidationError({"token": "This product no longer exists."})
    sub = Subscription.objects.filter(product=product, email__iexact=data["e"]).first()
    if sub is None:
        sub = Subscription.objects.create(
            product=product, email=data["e"], unsubscribed_at=timezone.now()
        )
    elif sub.unsubscribed_at is None:
        Subscription.objects.filter(pk=sub.pk).update(unsubscribed_at=timezone.now())
        sub.refresh_from_db()
    return sub


# --- status emails ----------------------------------------------------------------------------

# Backlog statuses → the news a customer gets. "In progress" counts as planned
# news only when the item jumps there without passing "planned".
NOTIFY = {
    Status.PLANNED: "planned",
    Status.IN_PROGRESS: "planned",
    Status.SHIPPED: "shipped",
    Status.DECLINED: "declined",
}
PLANNED_LIKE = (Status.PLANNED, Status.IN_PROGRESS)


def status_news(old_status: str, new_status: str) -> str | None:
    """Which email (planned / shipped / declined) a status change sends, if any."""
    news = NOTIFY.get(new_status)
    if news == "planned" and old_status in PLANNED_LIKE:
        return None
    return news


def on_item_status_changed(*, item_id, old_status, new_status, reason, **_kwargs) -> None:
    """Receiver of backlog's item_status_changed (after commit): public items
    with news enqueue their emails."""
    news = status_news(old_status, new_status)
    if news is None or not PublicIdea.objects.filter(item_id=item_id).exists():
        return
    from .tasks import send_status_emails

    try:
        send_status_emails.delay(item_id, news)
    except Exception:
        log.warning("Could not enqueue status emails for item %s", item_id, exc_info=True)


def recipients(idea: PublicIdea) -> list[str]:
    """Verified voters and requesters (people whose feedback is linked to
    the item) with an email, minus those who unsubscribed; lower-cased, sorted."""
    voters = Vote.objects.filter(idea=idea, verified_at__isnull=False).values_list(
        "email", flat=True
    )
    requesters = (
        Insight.objects.filter(item_id=idea.item_id)
        .exclude(feedback__person__email="")
        .exclude(feedback__person__isnull=True)
        .values_list("feedback__person__email", flat=True)
    )
    emails = {e.lower() for e in [*voters, *requesters] if e and not e.endswith(".invalid")}
    gone = {
        e.lower()
        for e in Subscription.objects.filter(
            product_id=idea.product_id, unsubscribed_at__isnull=False
        ).values_list("email", flat=True)
    }
    return sorted(emails - gone)


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path if getattr(settings, "SITE_URL", "") else path


def status_email_recipients(item_id: int) -> list[str]:
    """Who hears about a public item's news: its verified voters and requesters
    who have not unsubscribed."""
    idea = PublicIdea.objects.filter(item_id=item_id).first()
    return recipients(idea) if idea is not None else []


def send_status_emails(item_id: int, news: str, *, only: list[str] | None = None) -> int:
    """Email voters and requesters of a public item about its news (or only
    the addresses in ``only``). Returns the number of emails sent. Each email
    carries an unsubscribe link."""
    idea = (
        PublicIdea.objects.select_related("item", "product__workspace")
        .filter(item_id=item_id)
        .first()
    )
    if idea is None:
        return 0
    product = idea.product
    portal_url = _absolute(reverse("feedback:portal", args=[product.workspace.slug, product.key]))
    subject = {
        "planned": f"Planned: {idea.public_title}",
        "shipped": f"Shipped: {idea.public_title}",
        "declined": f"Not planned: {idea.public_title}",
    }[news]
    sent = 0
    for email in recipients(idea) if only is None else only:
        unsubscribe_url = _absolute(
            reverse("feedback:portal-unsubscribe", args=[unsubscribe_token(product.pk, email)])
        )
        body = render_to_string(
            "feedback/email/status.txt",
            {
                "idea": idea,
                "news": news,
                "reason": idea.item.status_reason,
                "product": product,
                "portal_url": portal_url,
                "unsubscribe_url": unsubscribe_url,
            },
        )
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        sent += 1
    return sent


def send_vote_verification(vote_id: int) -> bool:
    vote = Vote.objects.select_related("idea__product__workspace").filter(pk=vote_id).first()
    if vote is None or vote.verified_at is not None:
        return False
    product = vote.idea.product
    body = render_to_string(
        "feedback/email/verify_vote.txt",
        {
            "idea": vote.idea,
            "product": product,
            "confirm_url": _absolute(
                reverse("feedback:portal-vote-confirm", args=[vote_token(vote)])
            ),
            "unsubscribe_url": _absolute(
                reverse(
                    "feedback:portal-unsubscribe", args=[unsubscribe_token(product.pk, vote.email)]
                )
            ),
        },
    )
    send_mail(
        f"Confirm your vote: {vote.idea.public_title}",
        body,
        settings.DEFAULT_FROM_EMAIL,
        [vote.email],
    )
    return True
