"""CSV import and export of feedback, on backlog's pattern: upload → map
columns → every row validated and reported row by row → a file without
errors is imported, every row in one transaction. Big files run in a Celery
task; the page shows a progress bar."""

import csv
import datetime as dt
import io
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from backlog.importing import neutralize, read_csv
from pmhub.accounts.services import require_editor

from . import services
from .models import ImportJob, Source

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
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


def _normalize(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def guess_mapping(headers: list[str]) -> dict[str, str]:
    mapping, used = {}, set()
    for header in headers:
        target = ALIASES.get(_normalize(header))
        if target and target not in used:
            mapping[header] = target
            used.add(target)
    return mapping


@transaction.atomic
def start_import(actor, *, product, filename: str, raw: bytes) -> ImportJob:
    require_editor(actor, product.workspace)
    headers, text = read_csv(raw)
    return ImportJob.objects.create(
        product=product,
        created_by=actor,
        filename=filename[:200],
        text=text,
        headers=headers,
        mapping=guess_mapping(headers),
    )


def rows_of(job: ImportJob) -> list[dict]:
    reader = csv.DictReader(io.StringIO(job.text))
    return [
        row for row in reader if any((v or "").strip() for v in row.values() if isinstance(v, str))
    ]


def mapped_columns(job: ImportJob) -> list[tuple[str, str]]:
    return [(h, job.mapping[h]) for h in job.headers if job.mapping.get(h)]


@transaction.atomic
def set_mapping(actor, *, job: ImportJob, mapping: dict[str, str]) -> ImportJob:
    """Save the mapping and validate every row (in the background for big files)."""
    require_editor(actor, job.product.workspace)
    clean = {col: t for col, t in mapping.items() if t and col in job.headers}
    bad = [t for t in clean.values() if t not in TARGETS]
    if bad:
        raise ValidationError({"mapping": f"Unknown fields: {', '.join(bad)}."})
    if "text" not in clean.values():
        raise ValidationError({"mapping": "Map one column to Feedback text."})
    if len(set(clean.values())) != len(clean):
        raise ValidationError({"mapping": "Two columns are mapped to the same field."})
    rows = rows_of(job)
    if len(rows) > MAX_ROWS:
        raise ValidationError({"file": f"At most {MAX_ROWS:,} rows per import."})
    if not rows:
        raise ValidationError({"file": "The file has a header row but no feedback."})
    ImportJob.objects.filter(pk=job.pk).update(
        mapping=clean,
        state=ImportJob.JobState.VALIDATING,
        total_rows=len(rows),
        processed_rows=0,
        errors=[],
    )
    job.refresh_from_db()
    _run(job, "validate")
    return job


def _run(job: ImportJob, step: str) -> None:
    from .tasks import run_import_step

    if job.total_rows <= BACKGROUND_ROWS:
        validate_job(job.pk) if step == "validate" else import_job(job.pk)
    else:
        transaction.on_commit(lambda: run_import_step.delay(job.pk, step))


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
            services._clean_email(values["email"])
        except ValidationError:
            column = next(c for c, t in mapped_columns(job) if t == "email")
            err(column, f"{values['email']!r} is not an email address.")
    return (None if errors else values), errors


def validate_job(job_id: int) -> ImportJob:
    job = ImportJob.objects.select_related("product__workspace").get(pk=job_id)
    errors = []
    for n, row in enumerate(rows_of(job), start=2):  # row 1 is the header
        errors.extend(check_row(job, n, row)[1])
        if n % PROGRESS_EVERY == 0:
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=n - 1)
    state = ImportJob.JobState.INVALID if errors else ImportJob.JobState.READY
    ImportJob.objects.filter(pk=job.pk).update(
        state=state, errors=errors[:1000], processed_rows=job.total_rows
    )
    job.refresh_from_db()
    return job


@transaction.atomic
def confirm_import(actor, *, job: ImportJob) -> ImportJob:
    require_editor(actor, job.product.workspace)
    claimed = ImportJob.objects.filter(pk=job.pk, state=ImportJob.JobState.READY).update(
        state=ImportJob.JobState.IMPORTING, processed_rows=0
    )
    if not claimed:
        raise ValidationError({"job": "This import is not ready (or was already imported)."})
    job.refresh_from_db()
    _run(job, "import")
    return job


def import_job(job_id: int) -> ImportJob:
    """Create every row's feedback in one transaction (customers matched by
    email and domain; rows whose external id exists already are skipped). A
    job that is not IMPORTING is left alone, so a rerun does nothing."""
    job = ImportJob.objects.select_related("product__workspace", "created_by").get(pk=job_id)
    if job.state != ImportJob.JobState.IMPORTING:
        return job
    created = 0
    try:
        with transaction.atomic():
            for n, row in enumerate(rows_of(job), start=2):
                values, errors = check_row(job, n, row)
                if errors:
                    raise ValidationError(f"row {n}: {errors[0]['message']}")
                feedback = services.create_feedback(None, product=job.product, **values)
                created += int(feedback._created)
            ImportJob.objects.filter(pk=job.pk).update(
                state=ImportJob.JobState.DONE,
                created_count=created,
                processed_rows=job.total_rows,
                finished_at=timezone.now(),
            )
    except ValidationError as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.JobState.INVALID,
            errors=[
                {"row": 0, "column": "", "message": f"Nothing was imported: {exc.messages[0]}"}
            ],
        )
    job.refresh_from_db()
    return job


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


class _Echo:
    def write(self, value):
        return value


def export_csv(qs) -> Iterator[str]:
    """CSV lines, streamed; formula cells neutralized."""
    writer = csv.writer(_Echo())
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
