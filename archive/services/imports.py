"""Workspace imports: an owner uploads an archive into a new workspace; a
worker loads it in one transaction."""

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction

from pmhub import activity
from pmhub.accounts.models import Membership, Role
from pmhub.accounts.services import create_workspace
from pmhub.activity.models import Event

from .. import format, loading
from ..models import ArchiveJob, ImportedEvents
from ..parts import registered
from . import jobs
from .exports import require_owner

MAX_UPLOAD_BYTES = 2 * 1024**3


def _is_empty(workspace) -> bool:
    """Nothing in it but its owner and its own creation."""
    for part in registered():
        if not part.scope:
            continue  # a table of people (the owner's preferences), not of the workspace
        qs = part.queryset(workspace)
        if part.name == "members":
            qs = qs.exclude(role=Role.OWNER)
        elif part.name == "events":
            qs = qs.exclude(verb="workspace.created")
        if qs.exists():
            return False
    return True


def _check_upload(upload) -> None:
    if upload is None:
        raise ValidationError({"file": "Choose an archive (.zip) to import."})
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": "The archive is larger than 2 GB."})
    upload.seek(0)
    try:
        loading.open_archive(upload)
    except format.ArchiveError as e:
        raise ValidationError({"file": str(e)}) from None
    upload.seek(0)


@transaction.atomic
def start_import(actor, *, workspace, upload) -> ArchiveJob:
    """Queue the import of an uploaded archive into ``workspace``, which must
    be empty and owned by the actor. The manifest is checked at once (a
    newer format or a damaged manifest is a field error on ``file``); the
    rest when the job runs."""
    require_owner(actor, workspace)
    if not _is_empty(workspace):
        raise ValidationError({"file": "Archives are imported into a new, empty workspace only."})
    if ArchiveJob.objects.filter(
        workspace=workspace, kind=ArchiveJob.Kind.IMPORT, state__in=["queued", "running"]
    ).exists():
        raise ValidationError({"file": "An import into this workspace is already running."})
    _check_upload(upload)
    job = ArchiveJob.objects.create(
        kind=ArchiveJob.Kind.IMPORT, workspace=workspace, created_by=actor, size=upload.size
    )
    job.file_name = default_storage.save(f"imports/{workspace.slug}/archive-{job.pk}.zip", upload)
    job.save(update_fields=["file_name"])
    jobs.enqueue(job)
    return job


@transaction.atomic
def import_into_new_workspace(actor, *, name: str, upload) -> ArchiveJob:
    """Create a workspace (the actor its owner) and queue the archive's import into it."""
    if not (actor and actor.is_authenticated):
        raise PermissionDenied("Sign in to import a workspace.")
    _check_upload(upload)
    workspace = create_workspace(actor, name=name)
    return start_import(actor, workspace=workspace, upload=upload)


def run_import(job: ArchiveJob) -> ArchiveJob:
    """Load the archive in one transaction; on any error nothing stays and the
    job says why."""
    try:
        with transaction.atomic():
            # One import at a time per job: a redelivered task waits here, then sees it done.
            locked = ArchiveJob.objects.select_for_update().get(pk=job.pk)
            if locked.state != ArchiveJob.State.RUNNING:
                return locked
            _load(job)
    except format.ArchiveError as e:
        jobs.fail(job, str(e))
        return job
    finally:
        cache.delete(job.progress_key)
    default_storage.delete(job.file_name)
    return job


def _load(job: ArchiveJob) -> None:
    workspace = job.workspace
    actor = job.created_by
    if actor is None or not _is_empty(workspace):
        raise format.ArchiveError("The workspace is no longer new and empty; nothing was imported.")
    with default_storage.open(job.file_name, "rb") as f:
        zf, manifest = loading.open_archive(f)
        total = loading.verify(zf, manifest)
        job.total = total
        cache.set(job.progress_key, (0, total), 3600)
        # The archive brings the members and the history: the new workspace's own go.
        Membership.objects.filter(workspace=workspace).delete()
        Event.objects.filter(workspace=workspace).delete()
        first, last = loading.load_archive(
            zf,
            manifest,
            workspace=workspace,
            progress=lambda n: cache.set(job.progress_key, (n, total), 3600),
        )
    if first is not None:
        ImportedEvents.objects.create(workspace=workspace, first_id=first, last_id=last)
    Membership.objects.update_or_create(
        workspace=workspace, user=actor, defaults={"role": Role.OWNER}
    )
    name = manifest.get("workspace", {}).get("name")
    activity.record(
        workspace,
        "workspace.imported",
        workspace,
        changes={"archive": [None, name], "exported_at": [None, manifest.get("exported_at")]},
        actor=actor,
    )
    jobs.finish(job, done=total, total=total)
