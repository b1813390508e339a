from django.apps import AppConfig


class BacklogConfig(AppConfig):
    name = "backlog"

    def ready(self):
        from pmhub.activity import keys
        from pmhub.onboarding import register_step

        from . import onboarding
        from .reads import items_by_key

        keys.register_resolver(items_by_key)
        register_step(
            "items",
            "Add the first backlog items",
            order=30,
            done=onboarding.has_items,
            url=onboarding.items_url,
        )

        from pmhub.palette import register_source

        from . import palette

        register_source("backlog-actions", palette.actions_source, order=5)
        register_source("items", palette.items_source, order=20)
        register_source("backlog-create", palette.create_source, order=90)

        from pmhub.undo import register_undo

        from . import undo

        register_undo(undo.KIND, undo.undo_items)
        register_undo(undo.DELETE_KIND, undo.undo_delete)

        from pmhub.navigation import register_product_tab

        register_product_tab("backlog", "Backlog", "backlog:backlog", order=20)
        register_product_tab("scoring", "Scoring", "backlog:scoring", order=80)
        register_product_tab("fields", "Fields", "backlog:custom-fields", order=90)
        register_product_tab("launch-reviews", "Launch reviews", "backlog:launch-reviews", order=60)

        from .panels import register_item_panel
        from .views.launch import item_panel_context

        register_item_panel("backlog/_launch_panel.html", item_panel_context, order=10)

        from django.db.models.signals import post_save

        from products.models import Product

        from .receivers import create_backlog_of_new_product

        post_save.connect(
            create_backlog_of_new_product, sender=Product, dispatch_uid="backlog-of-new-product"
        )
