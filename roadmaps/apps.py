from django.apps import AppConfig


class RoadmapsConfig(AppConfig):
    name = "roadmaps"

    def ready(self):
        from django.db.models.signals import post_delete

        from backlog.panels import register_item_panel
        from pmhub.activity import consumers
        from pmhub.navigation import register_product_tab

        from . import panels, services, sharing
        from .models import ShareLink

        register_product_tab("roadmaps", "Roadmaps", "roadmaps:roadmaps", order=30)
        register_item_panel("roadmaps/_item_panel.html", panels.item_roadmaps, order=20)
        post_delete.connect(
            sharing.link_deleted, sender=ShareLink, dispatch_uid="roadmaps.link_deleted"
        )
        consumers.register(
            "roadmap-changelog", services.changelog_consumer, verbs={"item.status_changed"}
        )
