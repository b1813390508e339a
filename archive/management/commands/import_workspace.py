"""Import an archive into a new workspace (``manage.py import_workspace <zip> --owner <user>``)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from archive import loading, services
from archive.format import ArchiveError


class Command(BaseCommand):
    help = "Import a PMHub archive into a new workspace owned by --owner (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the archive (.zip)")
        parser.add_argument("--owner", required=True, help="username of the new workspace's owner")
        parser.add_argument("--name", help="the new workspace's name (default: the archive's)")

    def handle(self, *args, path, owner, name=None, **options):
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"No user {owner!r} on this server.")
        try:
            with open(path, "rb") as f:
                _zf, manifest = loading.open_archive(f)
                f.seek(0)
                name = name or manifest.get("workspace", {}).get("name") or "Imported workspace"
                job = services.import_into_new_workspace(
                    user, name=name, upload=File(f, name="archive.zip")
                )
        except OSError as e:
            raise CommandError(f"Cannot read {path}: {e}") from None
        except ArchiveError as e:
            raise CommandError(str(e)) from None
        except ValidationError as e:
            raise CommandError(" ".join(e.messages)) from None
        # Without a broker the job ran already; with one, run it here if no worker took it yet.
        job.refresh_from_db()
        if job.is_running:
            services.run_job(job.pk)
            job.refresh_from_db()
        if job.state != job.State.DONE:
            raise CommandError(f"Nothing was imported: {job.error}")
        self.stdout.write(
            f"Imported {job.done} rows into the workspace {job.workspace.name} "
            f"(/{job.workspace.slug}/), owned by {user.username}."
        )
