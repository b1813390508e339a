from django.apps import AppConfig

VERBS = {
    "spec.created": "an item's spec was created",
    "spec.updated": "a spec's sections were saved (a new version)",
    "spec.review_requested": "a spec's review was requested from named members",
    "spec.approved": "a reviewer approved a spec",
    "spec.changes_requested": "a reviewer requested changes to a spec",
}


class SpecsConfig(AppConfig):
    name = "specs"

    def ready(self):
        from backlog.panels import register_item_panel
        from pmhub.activity.verbs import register_verbs

        from .views import item_panel_context

        register_verbs(VERBS)
        register_item_panel("specs/_item_panel.html", item_panel_context, order=5)
