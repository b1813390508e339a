from django.apps import AppConfig


class RoadmapsConfig(AppConfig):
    name = "roadmaps"

    def ready(self):
        from backlog.panels import register_item_panel
        from backlog.signals import item_status_changed
        from pmhub.navigation import register_product_tab

        from . import panels, services

        register_product_tab("roadmaps", "Roadmaps", "roadmaps", order=30)
        register_item_panel("roadmaps/_item_panel.html", panels.item_roadmaps, order=20)
        item_status_changed.connect(
            services.status_receiver, dispatch_uid="roadmaps.status_receiver"
        )
