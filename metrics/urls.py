"""Pages of post-launch metrics (namespace ``metrics``): a product's Metrics
tab and each metric's page. Mounted at the site root; every route spells out
its full path, under the product's ``p/<key>/metrics/``."""

from django.urls import path

from . import views

app_name = "metrics"

P = "w/<slug:slug>/p/<str:key>/metrics/"

urlpatterns = [
    path(P, views.metrics_page, name="metrics"),
    path(P + "<int:pk>/", views.metric_detail, name="metric"),
    path(P + "<int:pk>/edit/", views.metric_edit, name="metric-edit"),
    path(P + "<int:pk>/upload/", views.metric_upload, name="metric-upload"),
    path(P + "<int:pk>/delete/", views.metric_delete, name="metric-delete"),
]
