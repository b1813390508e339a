"""Create the demo workspace "Acme" (idempotent: running it again changes nothing).

Users and the workspace are created here; each app contributes its own demo
data through a ``demo.seed(workspace=, users=)`` function, called in
INSTALLED_APPS order (products, metrics, backlog, …), so no app imports a
downstream one."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from pmhub.accounts.models import Membership, Role, User, Workspace
from pmhub.activity.demo_history import spread_demo_history

DEMO_USERS = [
    # username, password, role, first name, last name
    ("demo", "demo", Role.OWNER, "Dana", "Demo"),
    ("alex", "alex", Role.EDITOR, "Alex", "Rivera"),
    ("viewer", "viewer", Role.VIEWER, "Vic", "Viewer"),
]


class Command(BaseCommand):
    help = "Seed the demo workspace 'Acme' with users demo/demo, alex/alex and viewer/viewer."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates users with known passwords; it refuses to run with DEBUG off."
            )
        # The demo ships items that customers voted for: their notification
        # emails go to memory, not into `make run`'s output.
        with override_settings(
            MAILERS={"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
        ):
            mail.outbox = []
            with transaction.atomic():
                created = self.seed()
            sent = len(mail.outbox)
        self.stdout.write("Demo workspace " + ("created." if created else "already present."))
        if sent:
            self.stdout.write(f"  ({sent} demo notification emails were generated and not sent.)")

    def seed(self) -> bool:
        users = {}
        for username, password, _role, first, last in DEMO_USERS:
            user, made = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@acme.example",
                },
            )
            if made:
                user.set_password(password)
                user.save(update_fields=["password"])
            users[username] = user
        workspace, created = Workspace.objects.get_or_create(slug="acme", defaults={"name": "Acme"})
        for username, _password, role, _first, _last in DEMO_USERS:
            Membership.objects.get_or_create(
                workspace=workspace, user=users[username], defaults={"role": role}
            )
        for config in apps.get_app_configs():
            module_name = f"{config.name}.demo"
            if config.name.startswith("django") or find_spec(module_name) is None:
                continue
            created |= bool(import_module(module_name).seed(workspace=workspace, users=users))
        if created:
            spread_demo_history(workspace)
        return created
