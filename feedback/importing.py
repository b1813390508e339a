"""CSV import and export of feedback. The import runs the shared flow of
``pmhub.csvimport`` (upload → map columns → every row validated and reported
row by row → a file without errors is imported, every row in one
transaction; big files in a Celery task); this module adds the fields, the
row check and how rows become feedback."""

import csv
import datetime as dt
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from pmhub import csvimport
from pmhub.csvimport import mapped_columns, neutralize

from . import services
from .models import ImportJob, Source

BACKGROUND_ROWS = 300
PROGRESS_EVERY = 100

TARGETS = {
    "text": "Feedback text",
    "source": "Source",
    "received_at": "Received (date or date-time)",
    "name": "Person name",
    "email": "Person email",
    "company_name": "Company name",
    "domain": "Company domain",
    "tags": "Tags (comma or semicolon separated)",
    "external_id": "External id",
}
ALIASES = {
    "feedback": "text",
    "comment": "text",
    "message": "text",
    "body": "text",
    "text": "text",
    "note": "text",
    "channel": "source",
    "source": "source",
    "date": "received_at",
    "createdat": "received_at",
    "received": "received_at",
    "receivedat": "received_at",
    "name": "name",
    "customer": "name",
    "contact": "name",
    "email": "email",
    "emailaddress": "email",
    "company": "company_name",
    "companyname": "company_name",
    "account": "company_name",
    "organization": "company_name",
    "domain": "domain",
    "website": "domain",
    "tags": "tags",
    "labels": "tags",
    "id": "external_id",
    "externalid": "external_id",
    "ticket": "external_id",
    "ticketid": "external_id",
}
SOURCES = {v: v for v in Source.values} | {label.lower(): v for v, label in Source.choices}


class FeedbackImporter(csvimport.Importer):
    job_model = ImportJob
    required_target = "text"
    required_message = "Map one column to Feedback text."
    rows_noun = "feedback"
    task = "feedback.tasks.run_import_step"

    def targets(self, product):
        return TARGETS

    def guess(self, headers, product):
        return csvimport.guess_mapping(headers, ALIASES)

    def checker(self, job):
        return lambda number, row: check_row(job, number, row)

    def create(self, job, rows):
        """Customers are matched by email and domain; a row whose external id
        was imported before is skipped (not counted)."""
        return {"created_count": services.import_feedback(product=job.product, rows=rows)}


IMPORTER = FeedbackImporter()
start_import, set_mapping, validate_job, confirm_import, import_job = IMPORTER.functions()


def _parse_when(raw: str):
    value = parse_datetime(raw)
    if value is None:
        day = parse_date(raw)
        if day is None:
            raise ValueError
        value = dt.datetime.combine(day, dt.time(12, 0))
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def check_row(job: ImportJob, number: int, row: dict) -> tuple[dict | None, list[dict]]:
    """One row as ``create_feedback`` arguments, or its errors."""
    errors, values = [], {"source": Source.IMPORT}

    def err(column, message):
        errors.append({"row": number, "column": column, "message": message})

    for column, target in mapped_columns(job):
        raw = (row.get(column) or "").strip()
        if target == "source":
            if raw:
                values["source"] = SOURCES.get(raw.lower())
                if values["source"] is None:
                    err(column, f"Unknown source {raw!r} (use {', '.join(Source.values)}).")
        elif target == "received_at":
            if raw:
                try:
                    values["received_at"] = _parse_when(raw)
                except (ValueError, OverflowError):
                    err(column, f"{raw!r} is not a date (use YYYY-MM-DD or ISO 8601).")
        else:
            values[target] = raw
    try:
        services.clean_feedback_fields(
            {
                k: v
                for k, v in values.items()
                if k in ("text", "source", "received_at", "tags") and v is not None
            }
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            column = next((c for c, t in mapped_columns(job) if t == field), field)
            err(column, " ".join(messages))
    if values.get("email"):
        try:
            services.clean_email(values["email"])
        except ValidationError:
            column = next(c for c, t in mapped_columns(job) if t == "email")
            err(column, f"{values['email']!r} is not an email address.")
    return (None if errors else values), errors


EXPORT_COLUMNS = [
    "id",
    "received_at",
    "source",
    "state",
    "person",
    "email",
    "company",
    "segment",
    "annual_revenue",
    "tags",
    "text",
    "external_id",
]


def export_csv(qs) -> Iterator[str]:
    """CSV lines, streamed; formula cells neutralized."""
    writer = csv.writer(csvimport.Echo())
    yield "\ufeff" + writer.writerow(EXPORT_COLUMNS)
    for f in qs.select_related("person", "company").iterator(chunk_size=500):
        row = [
            f.pk,
            f.received_at.isoformat(),
            f.source,
            f.state,
            f.person.name if f.person else "",
            f.person.email if f.person else "",
            f.company.name if f.company else "",
            f.company.segment if f.company else "",
            f.company.annual_revenue if f.company and f.company.annual_revenue is not None else "",
            ", ".join(f.tags or []),
            f.text,
            f.external_id,
        ]
        yield writer.writerow([neutralize(v) for v in row])
