"""The CSV import machinery shared by the apps' imports (backlog items,
feedback): upload → map columns → every row validated and reported row by
row → only a file without errors is imported, all rows in one transaction.
Small files run in the request; big ones in a Celery task after commit, and
the page polls the progress.

An app keeps only what is its own, in a subclass of ``Importer``: the fields
a column can map to, how one row is checked, how the checked rows are
created, and its job model (a subclass of ``ImportJobBase``) and task.
This module imports no app."""

import codecs
import csv
import io
import sys
import tempfile
import unicodedata
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from pmhub.accounts.services import require_editor

MAX_BYTES = 10 * 1024 * 1024  # read_csv: small files read whole (metrics' CSV upload)
# Imports stream the file from the storage and write in batches, so size
# costs time, not memory.
IMPORT_MAX_BYTES = 100 * 1024 * 1024
MAX_ROWS = 1_000_000
BATCH_ROWS = 2000  # rows checked and created together while importing
MAX_ERRORS = 1000  # errors kept (and shown) per job
# What makes a spreadsheet read a cell as a formula: = + - @ and their
# look-alikes that spreadsheets accept too (full-width ＝ ＋ － ＠, small ﹦ ﹢
# ﹣ ﹫: NFKC folds them onto the ASCII ones; the minus sign −), also after
# leading spaces, and a leading tab, CR or LF.
FORMULA_STARTERS = frozenset("=+-@\u2212")
CONTROL_STARTERS = ("\t", "\r", "\n")


def read_csv(raw: bytes) -> tuple[list[str], str]:
    """Decode an upload; ValidationError for files that are not CSV text."""
    if len(raw) > MAX_BYTES:
        raise ValidationError({"file": f"The file is larger than {MAX_BYTES // 1024 // 1024} MB."})
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError({"file": "The file is not text (UTF-8 or Windows-1252)."})
    if "\x00" in text:
        raise ValidationError({"file": "The file is not text: it contains binary data."})
    try:
        headers = next(csv.reader(io.StringIO(text)))
    except (StopIteration, csv.Error) as exc:
        raise ValidationError({"file": "The file has no header row."}) from exc
    headers = [h.strip() for h in headers]
    if not any(headers) or len(set(headers)) != len(headers):
        raise ValidationError({"file": "The header row needs distinct, non-empty column names."})
    return headers, text


def is_formula(text: str) -> bool:
    """Would a spreadsheet take this cell for a formula (see FORMULA_STARTERS)?"""
    if text.startswith(CONTROL_STARTERS):
        return True
    head = text.lstrip()[:1]
    return bool(head) and (
        head in FORMULA_STARTERS or unicodedata.normalize("NFKC", head)[:1] in FORMULA_STARTERS
    )


def neutralize(value):
    """Defuse spreadsheet formulas in every CSV export: a text cell that a
    spreadsheet would take for a formula (``is_formula``) is prefixed with a
    quote, so Excel, LibreOffice and Sheets show it as text."""
    if isinstance(value, str) and is_formula(value):
        return "'" + value
    return value


class Echo:
    """A file-like object for ``csv.writer`` that hands each line back (streaming)."""

    def write(self, value):
        return value


def normalize(name: str) -> str:
    """A column name compared loosely: "Job size", "job_size" and "JOBSIZE" match."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def guess_mapping(headers: list[str], by_name: dict[str, str]) -> dict[str, str]:
    """Map each column whose normalized name is in ``by_name`` (normalized
    name → target), each target at most once, first column first."""
    mapping, used = {}, set()
    for header in headers:
        target = by_name.get(normalize(header))
        if target and target not in used:
            mapping[header] = target
            used.add(target)
    return mapping


def rows_of(job) -> Iterator[dict]:
    """The job's data rows (blank lines skipped), as dicts keyed by column,
    read a line at a time from the stored file (or, for jobs made before
    files were stored, from ``text``)."""
    if not job.file_name:
        source = io.StringIO(job.text)
        yield from _data_rows(csv.DictReader(source))
        return
    with default_storage.open(job.file_name, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=job.encoding or "utf-8-sig", newline="")
        yield from _data_rows(csv.DictReader(text))


def _data_rows(reader) -> Iterator[dict]:
    for row in reader:
        if any((v or "").strip() for v in row.values() if isinstance(v, str)):
            yield row


def count_rows(job) -> int:
    return sum(1 for _row in rows_of(job))


def store_upload(upload, prefix: str) -> tuple[str, str, list[str]]:
    """Copy an upload (a file object, or bytes) to the storage a chunk at a
    time, checking on the way that it is text (UTF-8, else Windows-1252) and
    at most ``IMPORT_MAX_BYTES``; returns (file name, encoding, headers)."""
    if isinstance(upload, bytes | bytearray):
        upload = io.BytesIO(upload)
    limit_mb = IMPORT_MAX_BYTES // 1024 // 1024
    utf8 = codecs.getincrementaldecoder("utf-8-sig")()
    encoding, size = "utf-8-sig", 0
    with tempfile.TemporaryFile() as tmp:
        for chunk in iter(lambda: upload.read(1024 * 1024), b""):
            size += len(chunk)
            if size > IMPORT_MAX_BYTES:
                raise ValidationError({"file": f"The file is larger than {limit_mb} MB."})
            if b"\x00" in chunk:
                raise ValidationError({"file": "The file is not text: it contains binary data."})
            if encoding == "utf-8-sig":
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    encoding = "cp1252"
            tmp.write(chunk)
        if encoding == "utf-8-sig":
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                encoding = "cp1252"
        tmp.seek(0)
        wrapper = io.TextIOWrapper(tmp, encoding=encoding, newline="")
        try:
            headers = _headers(wrapper)
        finally:
            wrapper.detach()  # the temporary file stays open for the save below
        tmp.seek(0)
        name = default_storage.save(f"csvimports/{prefix}/{uuid.uuid4().hex}.csv", File(tmp))
    return name, encoding, headers


def _headers(text) -> list[str]:
    try:
        headers = next(csv.reader(text))
    except UnicodeDecodeError as exc:  # cp1252 leaves five bytes undefined
        raise ValidationError({"file": "The file is not text (UTF-8 or Windows-1252)."}) from exc
    except (StopIteration, csv.Error) as exc:
        raise ValidationError({"file": "The file has no header row."}) from exc
    headers = [h.strip() for h in headers]
    if not any(headers) or len(set(headers)) != len(headers):
        raise ValidationError({"file": "The header row needs distinct, non-empty column names."})
    return headers


def shape_checked(check, headers: list[str]):
    """``check`` that first refuses a row with more values than the header
    has columns: csv.DictReader files the extra values under ``None``, where
    no mapping looks, so an unquoted comma in a text silently cut it."""

    def checked(number: int, row: dict):
        extra = row.get(None)
        if extra:
            message = (
                f"This row has {len(headers) + len(extra)} values but the header has "
                f"{len(headers)} columns: quote a text that contains a comma."
            )
            return None, [{"row": number, "column": "(row)", "message": message}]
        return check(number, row)

    return checked


def mapped_columns(job) -> list[tuple[str, str]]:
    """(CSV column, target field) in the file's column order (not the
    mapping's: PostgreSQL's jsonb does not keep key order)."""
    return [(h, job.mapping[h]) for h in job.headers if job.mapping.get(h)]


class ImportJobBase(models.Model):
    """A CSV import: uploaded text, the column mapping, the row-by-row
    validation report, and progress. A concrete job adds its ``product``."""

    class State(models.TextChoices):
        MAPPING = "mapping", "Choose columns"
        VALIDATING = "validating", "Checking rows"
        INVALID = "invalid", "Has errors"
        READY = "ready", "Ready to import"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    filename = models.CharField(max_length=200, blank=True)
    # The uploaded file in the storage (imports made before it: ``text``).
    file_name = models.CharField(max_length=300, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    text = models.TextField(blank=True)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    state = models.CharField(max_length=12, choices=State.choices, default=State.MAPPING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)
    created_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def is_running(self) -> bool:
        return self.state in (self.State.VALIDATING, self.State.IMPORTING)

    @property
    def progress_key(self) -> str:
        return f"csvimport:{self._meta.label_lower}:{self.pk}"

    def with_live_progress(self):
        """While importing, rows are re-checked inside the import's
        transaction, where a progress UPDATE would stay invisible until the
        commit: the importer publishes its count in the cache instead, and
        this reads it (the cache is shared by all processes in production)."""
        if self.state == self.State.IMPORTING:
            self.processed_rows = max(self.processed_rows, cache.get(self.progress_key) or 0)
        return self


class Importer:
    """The import flow; an app subclasses it and fills in the hooks below.

    Two limits are constants of the module that defines the subclass, so
    they can be tuned (and patched in tests) there: ``BACKGROUND_ROWS``
    (bigger files run in a Celery task) and ``PROGRESS_EVERY`` (rows between
    two progress updates: in the job row while validating; in the cache while
    importing, whose writes are one transaction — see
    ``ImportJobBase.with_live_progress``)."""

    job_model: type[ImportJobBase]
    required_target = ""  # the field every row needs
    required_message = ""  # refusal when no column maps to it
    rows_noun = "rows"  # "The file has a header row but no <rows_noun>."
    task = ""  # dotted path of the app's Celery task ``(job_id, step)``
    max_rows = MAX_ROWS

    def _limit(self, name: str, default: int) -> int:
        return getattr(sys.modules[type(self).__module__], name, default)

    @property
    def background_rows(self) -> int:
        return self._limit("BACKGROUND_ROWS", 500)

    @property
    def progress_every(self) -> int:
        return self._limit("PROGRESS_EVERY", 250)

    def functions(self):
        """The module-level functions an app's import offers: ``start_import,
        set_mapping, validate_job, confirm_import, import_job``."""
        return self.start, self.set_mapping, self.validate, self.confirm, self.import_rows

    # --- hooks -------------------------------------------------------------------------------

    def targets(self, product) -> dict[str, str]:
        """Field → label, for every field a column can map to."""
        raise NotImplementedError

    def guess(self, headers: list[str], product) -> dict[str, str]:
        """The first mapping offered after the upload."""
        raise NotImplementedError

    def checker(self, job):
        """A callable ``(row number, row) -> (values or None, errors)``;
        errors are ``{row, column, message}`` dicts."""
        raise NotImplementedError

    def create(self, job, rows: list[dict]) -> dict:
        """Create the checked rows (inside the import's transaction); returns
        the job fields to store, ``created_count`` at least."""
        raise NotImplementedError

    # --- flow --------------------------------------------------------------------------------

    def _jobs(self):
        return self.job_model.objects

    @transaction.atomic
    def start(self, actor, *, product, filename: str, raw):
        """Store the upload (``raw``: bytes or a binary file object) and make the job."""
        require_editor(actor, product.workspace)
        name, encoding, headers = store_upload(raw, self.job_model._meta.label_lower)
        return self._jobs().create(
            product=product,
            created_by=actor,
            filename=filename[:200],
            file_name=name,
            encoding=encoding,
            headers=headers,
            mapping=self.guess(headers, product),
        )

    @transaction.atomic
    def set_mapping(self, actor, *, job, mapping: dict[str, str]):
        """Save the column mapping and validate every row (in the background
        for big files). ValidationError when the mapping itself is unusable."""
        require_editor(actor, job.product.workspace)
        allowed = self.targets(job.product)
        clean = {col: target for col, target in mapping.items() if target and col in job.headers}
        bad = [t for t in clean.values() if t not in allowed]
        if bad:
            raise ValidationError({"mapping": f"Unknown fields: {', '.join(bad)}."})
        if self.required_target not in clean.values():
            raise ValidationError({"mapping": self.required_message})
        if len(set(clean.values())) != len(clean):
            raise ValidationError({"mapping": "Two columns are mapped to the same field."})
        total = count_rows(job)
        if total > self.max_rows:
            raise ValidationError({"file": f"At most {self.max_rows:,} rows per import."})
        if not total:
            raise ValidationError({"file": f"The file has a header row but no {self.rows_noun}."})
        self._jobs().filter(pk=job.pk).update(
            mapping=clean,
            state=ImportJobBase.State.VALIDATING,
            total_rows=total,
            processed_rows=0,
            errors=[],
        )
        job.refresh_from_db()
        self.run(job, "validate")
        return job

    def run(self, job, step: str) -> None:
        """Small files are handled right away, in the request; big ones by a
        Celery task after commit (the page polls the progress)."""
        if job.total_rows <= self.background_rows:
            self.run_step(job.pk, step)
        else:
            task = import_string(self.task)
            transaction.on_commit(lambda: task.delay(job.pk, step))

    def run_step(self, job_id: int, step: str):
        """What the app's task calls: idempotent, a finished step is skipped."""
        return self.validate(job_id) if step == "validate" else self.import_rows(job_id)

    def validate(self, job_id: int):
        """Validate every row; the job ends READY (no errors) or INVALID."""
        job = self._jobs().select_related("product__workspace").get(pk=job_id)
        check = shape_checked(self.checker(job), job.headers)
        errors = []
        for n, row in enumerate(rows_of(job), start=2):  # row 1 is the header
            found = check(n, row)[1]
            if found and len(errors) < MAX_ERRORS:
                errors.extend(found)
            if n % self.progress_every == 0:
                self._jobs().filter(pk=job.pk).update(processed_rows=n - 1)
        state = ImportJobBase.State.INVALID if errors else ImportJobBase.State.READY
        self._jobs().filter(pk=job.pk).update(
            state=state, errors=errors[:MAX_ERRORS], processed_rows=job.total_rows
        )
        job.refresh_from_db()
        return job

    @transaction.atomic
    def confirm(self, actor, *, job):
        require_editor(actor, job.product.workspace)
        claimed = (
            self._jobs()
            .filter(pk=job.pk, state=ImportJobBase.State.READY)
            .update(state=ImportJobBase.State.IMPORTING, processed_rows=0)
        )
        if not claimed:
            raise ValidationError({"job": "This import is not ready (or was already imported)."})
        job.refresh_from_db()
        self.run(job, "import")
        return job

    def _create_batch(self, job, batch: list, fields: dict) -> int:
        """Create one batch (inside the import's transaction); the job's fields
        add up the counts and keep the first batch's other values."""
        if not batch:
            return 0
        made = self.create(job, batch)
        fields["created_count"] = fields.get("created_count", 0) + made.pop("created_count", 0)
        for name, value in made.items():
            fields.setdefault(name, value)
        count = len(batch)
        batch.clear()
        return count

    def import_rows(self, job_id: int):
        """Re-check every row (the product may have changed since the
        validation) and create them all in one transaction, or none. A job
        whose state is not IMPORTING is left alone, so a rerun does nothing."""
        job = self._jobs().select_related("product__workspace", "created_by").get(pk=job_id)
        if job.state != ImportJobBase.State.IMPORTING:
            return job
        check = shape_checked(self.checker(job), job.headers)
        try:
            with transaction.atomic():
                batch, fields, done = [], {}, 0
                for n, row in enumerate(rows_of(job), start=2):
                    values, errors = check(n, row)
                    if errors:
                        raise ValidationError(f"row {n}: {errors[0]['message']}")
                    batch.append(values)
                    if len(batch) >= BATCH_ROWS:
                        done += self._create_batch(job, batch, fields)
                    if (n - 1) % self.progress_every == 0:
                        cache.set(job.progress_key, n - 1, 3600)
                done += self._create_batch(job, batch, fields)
                self._jobs().filter(pk=job.pk).update(
                    state=ImportJobBase.State.DONE,
                    processed_rows=done,
                    finished_at=timezone.now(),
                    **fields,
                )
        except ValidationError as exc:
            self._jobs().filter(pk=job.pk).update(
                state=ImportJobBase.State.INVALID,
                errors=[
                    {"row": 0, "column": "", "message": f"Nothing was imported: {exc.messages[0]}"}
                ],
            )
        finally:
            cache.delete(job.progress_key)
        job.refresh_from_db()
        if job.state == ImportJobBase.State.DONE and job.file_name:
            default_storage.delete(job.file_name)  # imported: the rows are the record now
        return job


# The pages live in their own module; callers keep using ``csvimport.<name>``.
from .csvimport_pages import errors_text, import_views, job_page, start_page  # noqa: E402

__all__ = ["errors_text", "import_views", "job_page", "start_page"]
