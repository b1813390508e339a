from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"

    def ready(self):
        from pmhub.navigation import register_product_tab

        register_product_tab("strategy", "Strategy", "products:strategy", order=10)
