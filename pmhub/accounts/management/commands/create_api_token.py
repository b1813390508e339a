from django.core.management.base import BaseCommand, CommandError

from pmhub.accounts.models import User
from pmhub.accounts.services import create_api_token


class Command(BaseCommand):
    help = "Create a personal access token for USERNAME and print it as the last line."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--read-only", action="store_true", help="Token can only read")
        parser.add_argument("--name", default="CLI token")

    def handle(self, *args, username, read_only, name, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        token, raw = create_api_token(user, name=name, read_only=read_only)
        kind = "read-only" if read_only else "read-write"
        self.stderr.write(f"Created {kind} token “{token.name}” for {username}. It is shown once:")
        self.stdout.write(raw)
