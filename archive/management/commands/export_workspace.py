"""Write a workspace's archive to a file: ``manage.py export_workspace <slug> <file.zip>``."""

from django.core.management.base import BaseCommand, CommandError

from archive import exporting
from pmhub.accounts.models import Workspace


class Command(BaseCommand):
    help = "Export a workspace as a PMHub archive (a zip of JSON Lines with a manifest)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the workspace's slug")
        parser.add_argument("path", help="where to write the archive (.zip)")

    def handle(self, *args, slug, path, **options):
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug {slug!r}.")
        with open(path, "wb") as f:
            manifest = exporting.write_archive(workspace, f)
        rows = sum(p["rows"] for p in manifest["parts"])
        self.stdout.write(f"Exported {workspace.name} ({rows} rows) to {path}.")
