from django.conf import settings
from django.db import models
from django.utils import timezone

from pmhub.querysets import WorkspaceScopedQuerySet


class ArchiveJobQuerySet(WorkspaceScopedQuerySet):
    workspace_path = "workspace"


class ArchiveJob(models.Model):
    """A background job that writes a file (a workspace archive, a CSV of
    items) to the storage, or imports an archive into a new workspace."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Workspace export"
        IMPORT = "import", "Workspace import"
        ITEMS_CSV = "items_csv", "Items CSV export"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    # The exported workspace, or the new workspace an import fills.
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="archive_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    # The file in the storage: the export's result, or the uploaded archive.
    file_name = models.CharField(max_length=300, blank=True)
    size = models.BigIntegerField(default=0)
    # Items CSV exports: the product and the filters of the backlog it was started from.
    params = models.JSONField(default=dict, blank=True)
    total = models.BigIntegerField(default=0)
    done = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = ArchiveJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["export", "import", "items_csv"]),
                name="archive_job_kind_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.pk} ({self.state})"

    @property
    def percent(self) -> int:
        if not self.total:
            return 0 if self.state != self.State.DONE else 100
        return min(100, round(100 * self.done / self.total))

    @property
    def is_running(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def is_downloadable(self) -> bool:
        return (
            self.kind != self.Kind.IMPORT
            and self.state == self.State.DONE
            and bool(self.file_name)
            and (self.expires_at is None or self.expires_at > timezone.now())
        )

    @property
    def progress_key(self) -> str:
        return f"archive:job:{self.pk}"

    def with_live_progress(self):
        """An import runs in one transaction, where progress written to its row
        stays invisible until the commit: it publishes (done, total) in the
        cache (shared by every process in production), and this reads it."""
        if self.kind == self.Kind.IMPORT and self.state == self.State.RUNNING:
            from django.core.cache import cache

            self.done, self.total = cache.get(self.progress_key) or (self.done, self.total)
        return self


JobState = ArchiveJob.State  # for the API schema's enum name


class ImportedEvents(models.Model):
    """The ids of the events an import copied into a workspace: history, which
    the event log's consumers skip (``archive.loading.imported_event_ids``)."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()

    def __str__(self):
        return f"events {self.first_id}–{self.last_id} of {self.workspace_id}"
