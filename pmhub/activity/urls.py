"""Pages of the event log (namespace ``activity``)."""

from django.urls import path

from . import views

app_name = "activity"

W = "w/<slug:slug>/"

urlpatterns = [
    path(W + "audit/", views.audit_log, name="audit"),
    path(W + "audit.csv", views.audit_csv, name="audit-csv"),
]
