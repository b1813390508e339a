from django.apps import AppConfig


class RoadmapsConfig(AppConfig):
    name = "roadmaps"

    def ready(self):
        from pmhub.onboarding import register_step

        from . import onboarding

        register_step(
            "roadmap",
            "Build a first roadmap",
            order=40,
            done=onboarding.has_roadmap,
            url=onboarding.roadmap_url,
        )
        register_step(
            "share",
            "Share it with a link",
            order=50,
            done=onboarding.has_share_link,
            url=onboarding.share_url,
        )

        from pmhub.palette import register_source

        from . import palette

        register_source("roadmap-actions", palette.actions_source, order=6)
        register_source("roadmaps", palette.roadmaps_source, order=30)

        from django.db.models.signals import post_delete

        from backlog.panels import register_item_panel
        from pmhub.activity import consumers
        from pmhub.navigation import register_product_tab, register_workspace_link

        from . import panels, services, sharing
        from .models import ShareLink

        register_product_tab("roadmaps", "Roadmaps", "roadmaps:roadmaps", order=30)
        register_workspace_link("Roadmaps and portfolios", "roadmaps:roadmaps-home", order=10)
        register_item_panel("roadmaps/_item_panel.html", panels.item_roadmaps, order=20)
        post_delete.connect(
            sharing.link_deleted, sender=ShareLink, dispatch_uid="roadmaps.link_deleted"
        )
        consumers.register(
            "roadmap-changelog", services.changelog_consumer, verbs={"item.status_changed"}
        )
