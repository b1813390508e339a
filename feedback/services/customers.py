"""Customers: companies and people, matched so that the same customer is
never recorded twice (companies by domain, people by email). A change to a
company's revenue or segment, or a deleted customer, requeues the demand of
the items their feedback supports."""

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from pmhub import activity
from pmhub.accounts.services import require_editor, require_workspace_user
from pmhub.versioning import delete_versioned, save_versioned

from ..models import Company, Insight, Person, Segment
from .demand import mark_demand_dirty

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


def _clean_domain(domain: str) -> str:
    domain = (domain or "").strip().lower()
    domain = re.sub(r"^https?://", "", domain).split("/")[0]
    if domain.startswith("www."):
        domain = domain[4:]
    return domain[:200]


def clean_email(email: str) -> str:
    """The address lower-cased ("" stays ""); ValidationError if it is not one."""
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
    email = clean_email(email)
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
    activity.record(workspace, "company.created", company, actor=actor)
    return company


@transaction.atomic
def update_company(actor, *, company: Company, expected_version: int | None, fields: dict):
    require_editor(actor, company.workspace)
    before = (company.annual_revenue, company.segment)
    fields = _check_company(company.workspace, fields, pk=company.pk)
    old_values = activity.values_of(company, fields)
    company = save_versioned(company, expected_version=expected_version, fields=fields)
    activity.record(
        company.workspace_id,
        "company.updated",
        company,
        changes=activity.diff(old_values, activity.values_of(company, fields)),
        actor=actor,
    )
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
    activity.record(company.workspace_id, "company.deleted", company, actor=actor)
    delete_versioned(company, expected_version=expected_version)
    mark_demand_dirty(items)


def _check_person(workspace, fields: dict, pk=None) -> dict:
    fields = dict(fields)
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()[:200]
    if "email" in fields:
        fields["email"] = clean_email(fields["email"])
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
    person = Person.objects.create(workspace=workspace, **fields)
    activity.record(workspace, "person.created", person, parent=person.company, actor=actor)
    return person


@transaction.atomic
def update_person(actor, *, person: Person, expected_version: int | None, fields: dict):
    require_editor(actor, person.workspace)
    fields = _check_person(person.workspace, fields, pk=person.pk)
    old_values = activity.values_of(person, fields)
    saved = save_versioned(person, expected_version=expected_version, fields=fields)
    activity.record(
        person.workspace_id,
        "person.updated",
        saved,
        changes=activity.diff(old_values, activity.values_of(saved, fields)),
        parent=saved.company,
        actor=actor,
    )
    return saved


@transaction.atomic
def delete_person(actor, *, person: Person, expected_version: int | None = None) -> None:
    require_editor(actor, person.workspace)
    # Their feedback becomes anonymous: each piece then counts as a customer of its own.
    items = list(Insight.objects.filter(feedback__person=person).values_list("item_id", flat=True))
    activity.record(
        person.workspace_id, "person.deleted", person, parent=person.company, actor=actor
    )
    delete_versioned(person, expected_version=expected_version)
    mark_demand_dirty(items)
