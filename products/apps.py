from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"

    def ready(self):
        from pmhub.palette import register_source

        from .palette import products_source

        register_source("products", products_source, order=10)

        from pmhub.navigation import register_product_tab

        register_product_tab("strategy", "Strategy", "products:strategy", order=10)
