from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"

    def ready(self):
        from pmhub.palette import register_source

        from .palette import metrics_source

        register_source("metrics", metrics_source, order=40)

        from pmhub.navigation import register_product_tab
        from products.extensions import register_key_result_extension

        from .key_results import MetricFollowing

        register_product_tab("metrics", "Metrics", "metrics:metrics", order=50)
        register_key_result_extension(MetricFollowing())
