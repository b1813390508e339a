from django.urls import path

from . import metric_views, views

urlpatterns = [
    path("p/<str:key>/metrics/", metric_views.metrics_page, name="metrics"),
    path("p/<str:key>/metrics/<int:pk>/", metric_views.metric_detail, name="metric"),
    path("p/<str:key>/metrics/<int:pk>/edit/", metric_views.metric_edit, name="metric-edit"),
    path("p/<str:key>/metrics/<int:pk>/upload/", metric_views.metric_upload, name="metric-upload"),
    path("p/<str:key>/metrics/<int:pk>/delete/", metric_views.metric_delete, name="metric-delete"),
    path("", views.workspace_home, name="workspace"),
    path("products/new/", views.product_create, name="product-create"),
    path("p/<str:key>/", views.strategy, name="strategy"),
    path("p/<str:key>/delete/", views.product_delete, name="product-delete"),
    path("p/<str:key>/vision/history/", views.vision_history, name="vision-history"),
    path("p/<str:key>/<str:kind>/", views.region_show, name="region"),
    path("p/<str:key>/<str:kind>/edit/", views.region_edit, name="region-edit"),
    path("p/<str:key>/<str:kind>/new/", views.region_new, name="region-new"),
    path(
        "p/<str:key>/objective/<int:parent_pk>/keyresult/new/",
        views.region_new,
        {"kind": "keyresult"},
        name="keyresult-new",
    ),
    path("p/<str:key>/<str:kind>/<int:pk>/", views.region_show, name="region"),
    path("p/<str:key>/<str:kind>/<int:pk>/edit/", views.region_edit, name="region-edit"),
    path("p/<str:key>/<str:kind>/<int:pk>/delete/", views.region_delete, name="region-delete"),
]
