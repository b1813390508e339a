"""Workspace exports: owners start them; a worker writes the archive."""

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction

from pmhub import activity
from pmhub.accounts.models import Role
from pmhub.accounts.services import role_in

from .. import exporting
from ..models import ArchiveJob
from . import jobs

log = logging.getLogger(__name__)


def require_owner(actor, workspace) -> None:
    if role_in(actor, workspace) != Role.OWNER:
        raise PermissionDenied("Only owners export or import a workspace.")


@transaction.atomic
def start_export(actor, *, workspace) -> ArchiveJob:
    """Queue an export of the whole workspace (owners only)."""
    require_owner(actor, workspace)
    job = ArchiveJob.objects.create(
        kind=ArchiveJob.Kind.EXPORT,
        workspace=workspace,
        created_by=actor,
        total=exporting.count_rows(workspace),
    )
    activity.record(workspace, "workspace.exported", workspace, actor=actor)
    jobs.enqueue(job)
    return job


def run_export(job: ArchiveJob) -> ArchiveJob:
    """Write the archive to the storage, reporting progress in the job row."""
    try:
        name, size = jobs.store(
            job,
            "workspace",
            ".zip",
            lambda f: exporting.write_archive(
                job.workspace, f, progress=lambda n: jobs.set_progress(job, n)
            ),
        )
    except Exception as e:
        log.exception("workspace export %s failed", job.pk)
        jobs.fail(job, f"The export failed: {e}")
        return job
    jobs.finish(job, file_name=name, size=size, done=job.total, expires_at=jobs.expiry())
    return job
