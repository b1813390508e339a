from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pmhub.accounts"
    label = "accounts"
    verbose_name = "Accounts and workspaces"
