from django.apps import AppConfig


class BacklogConfig(AppConfig):
    name = "backlog"

    def ready(self):
        from pmhub.navigation import register_product_tab

        register_product_tab("backlog", "Backlog", "backlog", order=20)
        register_product_tab("scoring", "Scoring", "scoring", order=80)
        register_product_tab("fields", "Fields", "custom-fields", order=90)
