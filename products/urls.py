"""Pages of products (namespace ``products``): the workspace home, a
product's strategy page and its regions (a product's metrics are the metrics
app's, ``metrics:``). Mounted at the site root; every route spells out its
full path.

A strategy region's kind is a typed path segment (``<region:kind>``) that
matches only the known kinds, so these routes never swallow another app's
``p/<key>/<something>/`` pages, whatever order the apps are included in."""

from django.urls import path, register_converter

from . import views


class RegionKindConverter:
    """One of the strategy page's region kinds (``views.REGIONS``)."""

    regex = "|".join(views.REGIONS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        if value not in views.REGIONS:
            raise ValueError(f"not a strategy region: {value!r}")
        return value


register_converter(RegionKindConverter, "region")

app_name = "products"

W = "w/<slug:slug>/"
P = W + "p/<str:key>/"

urlpatterns = [
    path(W, views.workspace_home, name="workspace"),
    path(W + "products/new/", views.product_create, name="product-create"),
    path(P, views.strategy, name="strategy"),
    path(P + "delete/", views.product_delete, name="product-delete"),
    path(P + "vision/history/", views.vision_history, name="vision-history"),
    path(P + "<region:kind>/", views.region_show, name="region"),
    path(P + "<region:kind>/edit/", views.region_edit, name="region-edit"),
    path(P + "<region:kind>/new/", views.region_new, name="region-new"),
    path(
        P + "objective/<int:parent_pk>/keyresult/new/",
        views.region_new,
        {"kind": "keyresult"},
        name="keyresult-new",
    ),
    path(P + "<region:kind>/<int:pk>/", views.region_show, name="region"),
    path(P + "<region:kind>/<int:pk>/edit/", views.region_edit, name="region-edit"),
    path(P + "<region:kind>/<int:pk>/delete/", views.region_delete, name="region-delete"),
]
