from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"

    def ready(self):
        from pmhub.onboarding import register_step

        from . import onboarding

        register_step(
            "product",
            "Create a product",
            order=10,
            done=onboarding.has_product,
            url=onboarding.product_url,
        )
        register_step(
            "vision",
            "Write its vision",
            order=20,
            done=onboarding.has_vision,
            url=onboarding.vision_url,
        )

        from pmhub.palette import register_source

        from .palette import products_source

        register_source("products", products_source, order=10)

        from pmhub.navigation import register_product_tab

        register_product_tab("strategy", "Strategy", "products:strategy", order=10)
