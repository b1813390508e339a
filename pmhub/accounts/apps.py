from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pmhub.accounts"
    label = "accounts"
    verbose_name = "Accounts and workspaces"

    def ready(self):
        from pmhub import checks  # noqa: F401  (registers the deploy checks)
