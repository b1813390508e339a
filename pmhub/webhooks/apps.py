from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "pmhub.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
