"""Pages of webhooks (namespace ``webhooks``), under a workspace's settings."""

from django.urls import path

from . import views

app_name = "webhooks"

W = "w/<slug:slug>/settings/webhooks/"

urlpatterns = [
    path(W, views.endpoint_list, name="list"),
    path(W + "new/", views.endpoint_new, name="new"),
    path(W + "<int:pk>/", views.endpoint_detail, name="endpoint"),
    path(W + "<int:pk>/edit/", views.endpoint_edit, name="edit"),
    path(W + "<int:pk>/rotate/", views.endpoint_rotate, name="rotate"),
    path(W + "<int:pk>/enable/", views.endpoint_enable, name="enable"),
    path(W + "<int:pk>/disable/", views.endpoint_disable, name="disable"),
    path(W + "<int:pk>/delete/", views.endpoint_delete, name="delete"),
    path(W + "<int:pk>/test/", views.endpoint_test, name="test"),
    path(W + "<int:pk>/deliveries/<int:delivery>/resend/", views.delivery_resend, name="resend"),
]
