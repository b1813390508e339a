from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"

    def ready(self):
        from pmhub.palette import register_source

        from .palette import customers_source

        register_source("customers", customers_source, order=50)

        from backlog.panels import register_item_panel
        from pmhub.activity import consumers
        from pmhub.navigation import register_product_tab

        from . import services
        from .views import ideas

        register_product_tab("feedback", "Feedback", "feedback:feedback-inbox", order=40)
        register_product_tab("customers", "Customers", "feedback:feedback-customers", order=45)
        register_item_panel("feedback/_item_insights.html", ideas.item_panel_context, order=10)
        consumers.register(
            "portal-status-emails", services.status_email_consumer, verbs={"item.status_changed"}
        )
