from django.apps import AppConfig


class RoadmapsConfig(AppConfig):
    name = "roadmaps"

    def ready(self):
        from backlog.signals import item_status_changed
        from pmhub.navigation import register_product_tab

        from . import services

        register_product_tab("roadmaps", "Roadmaps", "roadmaps", order=30)
        item_status_changed.connect(
            services.status_receiver, dispatch_uid="roadmaps.status_receiver"
        )
