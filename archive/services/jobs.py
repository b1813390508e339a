"""What every archive job shares: claiming, enqueueing, finishing, files."""

import datetime
import logging
import tempfile

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import ArchiveJob


def enqueue(job: ArchiveJob) -> None:
    """Run the job's task once the transaction that made the job commits."""
    from .. import tasks

    def send():
        try:
            tasks.run_archive_job.delay(job.pk)
        except Exception:  # the broker is down: the beat sweep (sweep_jobs) queues it later
            logging.getLogger(__name__).warning("could not queue archive job %s", job.pk)

    transaction.on_commit(send)


def claim(job_id: int) -> ArchiveJob | None:
    """Mark a waiting job running; a job found running again (its worker died,
    the broker redelivered it) runs again from the start. Done and failed
    jobs are left alone."""
    now = timezone.now()
    ArchiveJob.objects.filter(pk=job_id, state=ArchiveJob.State.QUEUED).update(
        state=ArchiveJob.State.RUNNING, started_at=now
    )
    job = ArchiveJob.objects.filter(pk=job_id).select_related("workspace", "created_by").first()
    if job is None or job.state != ArchiveJob.State.RUNNING:
        return None
    return job


def set_progress(job: ArchiveJob, done: int) -> None:
    ArchiveJob.objects.filter(pk=job.pk).update(done=done)


def finish(job: ArchiveJob, **fields) -> None:
    fields.setdefault("state", ArchiveJob.State.DONE)
    fields["finished_at"] = timezone.now()
    ArchiveJob.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


def fail(job: ArchiveJob, message: str) -> None:
    finish(job, state=ArchiveJob.State.FAILED, error=message)


def expiry() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(hours=settings.EXPORT_FILES_TTL_HOURS)


def store(job: ArchiveJob, prefix: str, suffix: str, write) -> tuple[str, int]:
    """``write(fileobj)`` into a local temporary file, then save it through the
    storage (the media directory, or S3 when configured); returns (name, size)."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    name = f"exports/{job.workspace.slug}/{prefix}-{stamp}-{job.pk}{suffix}"
    with tempfile.TemporaryFile() as tmp:
        write(tmp)
        size = tmp.tell()
        tmp.seek(0)
        saved = default_storage.save(name, File(tmp, name=name))
    return saved, size


# Jobs still waiting this long were lost on the way to the broker (it was down).
LOST_AFTER = datetime.timedelta(minutes=2)


def sweep_jobs(now=None) -> dict:
    """Periodic: queue again the jobs whose message was lost, and delete the
    files of expired exports and of failed imports' uploads."""
    from .. import tasks

    now = now or timezone.now()
    lost = list(
        ArchiveJob.objects.filter(
            state=ArchiveJob.State.QUEUED, created_at__lt=now - LOST_AFTER
        ).values_list("pk", flat=True)
    )
    for pk in lost:
        tasks.run_archive_job.delay(pk)
    ttl = datetime.timedelta(hours=settings.EXPORT_FILES_TTL_HOURS)
    stale = ArchiveJob.objects.exclude(file_name="").filter(
        Q(state=ArchiveJob.State.DONE, expires_at__lt=now)
        | Q(state=ArchiveJob.State.FAILED, finished_at__lt=now - ttl)
    )
    deleted = 0
    for pk, name in stale.values_list("pk", "file_name"):
        # Clear the name first: a download after this sees "gone", never a half-deleted file.
        if ArchiveJob.objects.filter(pk=pk, file_name=name).update(file_name=""):
            default_storage.delete(name)
            deleted += 1
    return {"requeued": len(lost), "deleted": deleted}
