from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "pmhub.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from pmhub.activity import consumers

        from .services import fan_out

        # Every event reaches the fan-out (webhook.test never is an event).
        consumers.register("webhooks", fan_out)
