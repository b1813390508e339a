"""CSV import and CSV / JSON export of backlog items.

Import: upload → map columns → every row is validated with the same rules as
``services.create_item`` and reported row by row → only a file without errors
is imported, all rows in one transaction (nothing half-applied). Items are
written with bulk inserts and scored by one SQL recompute of the new range.
Big files run in a Celery task; the page shows a progress bar."""

import csv
import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from pmhub import csvimport
from pmhub.accounts.models import User
from pmhub.csvimport import mapped_columns, neutralize

from . import scoring, services
from .models import (
    REASON_STATUSES,
    CustomField,
    ImportJob,
    Item,
    ItemType,
    Status,
)

BACKGROUND_ROWS = 500  # bigger files are validated and imported by a Celery task
PROGRESS_EVERY = 250

BASE_TARGETS = {
    "title": "Title",
    "type": "Type",
    "status": "Status",
    "status_reason": "Status reason",
    "description": "Description",
    "owner": "Owner (username or email)",
    "tags": "Tags (comma or semicolon separated)",
    "external_url": "External URL",
    "external_key": "External key",
    **{name: spec.label for name, spec in scoring.INPUTS.items() if name != "demand"},
}
ALIASES = {
    "summary": "title",
    "name": "title",
    "labels": "tags",
    "assignee": "owner",
    "url": "external_url",
    "issuekey": "external_key",
    "issuetype": "type",
    "key": "external_key",
    "estimate": "effort",
}


def targets(product) -> dict[str, str]:
    """Item fields a CSV column can map to, custom fields included."""
    result = dict(BASE_TARGETS)
    for f in CustomField.objects.filter(product=product):
        result[f"cf:{f.pk}"] = f"{f.name} (custom)"
    return result


def guess_mapping(headers: list[str], product) -> dict[str, str]:
    """Map columns whose names match a field (Title, title, TITLE, "Job size"…)."""
    norm = csvimport.normalize
    by_name = {norm(label.split(" (")[0]): key for key, label in targets(product).items()}
    by_name.update({norm(key): key for key in targets(product)})
    by_name.update(ALIASES)
    return csvimport.guess_mapping(headers, by_name)


class BacklogImporter(csvimport.Importer):
    job_model = ImportJob
    required_target = "title"
    required_message = "Map one column to Title: every item needs one."
    rows_noun = "items"
    task = "backlog.tasks.run_import_step"

    def targets(self, product):
        return targets(product)

    def guess(self, headers, product):
        return guess_mapping(headers, product)

    def checker(self, job):
        return _Checker(job).check

    def create(self, job, rows):
        created = services.create_imported_items(job=job, rows=rows)
        return {
            "created_count": len(created),
            "first_number": created[0].number if created else None,
        }


IMPORTER = BacklogImporter()
start_import, set_mapping, validate_job, confirm_import, import_job = IMPORTER.functions()


class _Checker:
    """Validates rows into ready-to-insert values with the services' rules."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.product = job.product
        self.fields = {str(f.pk): f for f in CustomField.objects.filter(product=self.product)}
        members = User.objects.filter(memberships__workspace=self.product.workspace)
        self.owners = {u.username.lower(): u for u in members}
        self.owners.update({u.email.lower(): u for u in members if u.email})
        self.url = URLValidator()
        self.types = {v: v for v in ItemType.values} | {
            label.lower(): v for v, label in ItemType.choices
        }
        self.statuses = {v: v for v in Status.values} | {
            label.lower(): v for v, label in Status.choices
        }

    def check(self, number: int, row: dict) -> tuple[dict | None, list[dict]]:
        errors, values, custom, tags = [], {}, {}, []

        def err(column, message):
            errors.append({"row": number, "column": column, "message": message})

        # Header order, not the mapping's: PostgreSQL's jsonb does not keep key order.
        for column, target in mapped_columns(self.job):
            raw = (row.get(column) or "").strip()
            if target == "title":
                if not raw:
                    err(column, "Title is required.")
                elif len(raw) > 255:
                    err(column, "Title is longer than 255 characters.")
                values["title"] = raw
            elif target == "type":
                values["type"] = self.types.get(raw.lower(), None) if raw else "feature"
                if values["type"] is None:
                    err(column, f"Unknown type {raw!r} (use {', '.join(ItemType.values)}).")
            elif target == "status":
                values["status"] = self.statuses.get(raw.lower(), None) if raw else "idea"
                if values["status"] is None:
                    err(column, f"Unknown status {raw!r}.")
            elif target == "owner":
                if raw:
                    values["owner"] = self.owners.get(raw.lower())
                    if values["owner"] is None:
                        err(column, f"{raw!r} is not a member of this workspace.")
            elif target == "tags":
                tags = [t.strip() for t in raw.replace(";", ",").split(",") if t.strip()]
            elif target == "external_url":
                if raw:
                    try:
                        self.url(raw)
                    except ValidationError:
                        err(column, "Not a valid URL.")
                values["external_url"] = raw
            elif target in ("description", "status_reason", "external_key"):
                values[target] = raw[
                    : 500
                    if target == "status_reason"
                    else 60
                    if target == "external_key"
                    else 100_000
                ]
            elif target.startswith("cf:"):
                if raw:
                    custom[target[3:]] = raw
            elif target in scoring.INPUTS and raw:
                try:
                    number_value = float(raw.replace(",", "."))
                    scoring.validate_input(target, number_value)
                    values[target] = number_value
                except ValueError:
                    err(column, f"{scoring.INPUTS[target].label} must be a number.")
                except ValidationError as exc:
                    err(column, " ".join(exc.message_dict[target]))
        if custom:
            try:
                values["custom"] = services.clean_custom_values(
                    self.product, custom, fields=self.fields
                )
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    err(key.removeprefix("custom."), " ".join(messages))
        status = values.get("status", "idea")
        if status in REASON_STATUSES and not values.get("status_reason"):
            err(
                "status_reason",
                "Declined or archived items need a reason (map a Status reason column).",
            )
        values["_tags"] = tags
        return (None if errors else values), errors


# --- export ----------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    "key",
    "title",
    "type",
    "status",
    "status_reason",
    "score",
    "effort",
    "value",
    "reach",
    "impact",
    "confidence",
    "ease",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "job_size",
    "demand",
    "owner",
    "tags",
    "objectives",
    "parent",
    "external_url",
    "external_key",
    "description",
    "created_at",
    "updated_at",
]


def _names_by_item(ids: list[int]) -> tuple[dict, dict]:
    """Tag names (by name) and objective titles (by position) of a chunk of
    items, one query each: cheaper per row than prefetched related managers."""
    tags, objectives = defaultdict(list), defaultdict(list)
    tag_rows = Item.tags.through.objects.filter(item_id__in=ids).order_by("tag__name", "tag_id")
    for item_id, name in tag_rows.values_list("item_id", "tag__name"):
        tags[item_id].append(name)
    objective_rows = Item.objectives.through.objects.filter(item_id__in=ids).order_by(
        "objective__position", "objective_id"
    )
    for item_id, title in objective_rows.values_list("item_id", "objective__title"):
        objectives[item_id].append(title)
    return tags, objectives


def export_rows(qs, custom_fields: Iterable[CustomField]) -> Iterator[dict]:
    """Rows of an export, read a chunk of 2 000 items at a time (a server-side
    cursor on PostgreSQL), so memory stays flat whatever the backlog's size."""
    custom_fields = list(custom_fields)
    qs = qs.select_related("owner", "parent")
    for chunk in itertools.batched(qs.iterator(chunk_size=2000), 2000):
        tags, objectives = _names_by_item([item.pk for item in chunk])
        yield from _export_chunk(chunk, tags, objectives, custom_fields)


def _export_chunk(chunk, tags, objectives, custom_fields) -> Iterator[dict]:
    for item in chunk:
        row = {c: getattr(item, c, None) for c in EXPORT_COLUMNS}
        row["owner"] = item.owner.username if item.owner else ""
        row["tags"] = ", ".join(tags.get(item.pk, ()))
        row["objectives"] = "; ".join(objectives.get(item.pk, ()))
        row["parent"] = item.parent.key if item.parent else ""
        row["created_at"] = item.created_at.isoformat()
        row["updated_at"] = item.updated_at.isoformat()
        for f in custom_fields:
            row[f.name] = (item.custom or {}).get(str(f.pk))
        yield row


def export_csv(qs, custom_fields) -> Iterator[str]:
    """CSV lines, streamed; formula cells neutralized."""
    custom_fields = list(custom_fields)
    header = EXPORT_COLUMNS + [f.name for f in custom_fields]
    writer = csv.writer(csvimport.Echo())
    yield "\ufeff" + writer.writerow([neutralize(h) for h in header])
    for row in export_rows(qs, custom_fields):
        yield writer.writerow(
            [neutralize("" if row.get(h) is None else row.get(h)) for h in header]
        )


def export_json(qs, custom_fields) -> Iterator[str]:
    """A JSON array, streamed."""
    yield "["
    for n, row in enumerate(export_rows(qs, custom_fields)):
        yield ("," if n else "") + json.dumps(row, default=str, ensure_ascii=False)
    yield "]"
