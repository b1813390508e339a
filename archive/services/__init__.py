"""Writes of the archive app: workspace exports and imports, and big CSV
exports, as background jobs that write through the storage."""

from ..models import ArchiveJob
from . import jobs
from .csv_exports import run_items_csv, start_items_csv
from .exports import require_owner, run_export, start_export
from .imports import import_into_new_workspace, run_import, start_import
from .jobs import sweep_jobs


def run_job(job_id: int) -> str:
    """Claim a job and run it; returns its state (``skipped`` when it was not
    waiting or running: done, failed or gone)."""
    job = jobs.claim(job_id)
    if job is None:
        return "skipped"
    runner = {
        ArchiveJob.Kind.EXPORT: run_export,
        ArchiveJob.Kind.IMPORT: run_import,
        ArchiveJob.Kind.ITEMS_CSV: run_items_csv,
    }[job.kind]
    return runner(job).state


__all__ = [
    "import_into_new_workspace",
    "require_owner",
    "run_export",
    "run_import",
    "run_items_csv",
    "run_job",
    "start_export",
    "start_import",
    "start_items_csv",
    "sweep_jobs",
]
