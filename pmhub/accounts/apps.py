from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pmhub.accounts"
    label = "accounts"
    verbose_name = "Accounts and workspaces"

    def ready(self):
        from axes.signals import user_locked_out

        from pmhub import checks  # noqa: F401  (registers the deploy checks)

        from .lockout import remember_locked_address

        user_locked_out.connect(remember_locked_address, dispatch_uid="pmhub-locked-address")
