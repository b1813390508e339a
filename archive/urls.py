from django.urls import path

from . import views

app_name = "archive"
W = "w/<slug:slug>/"

urlpatterns = [
    path(W + "archive/", views.archive_page, name="workspace"),
    path(W + "archive/export/", views.export_start, name="export"),
    path(W + "archive/import/", views.import_start, name="import"),
    path(W + "jobs/<int:pk>/", views.job_page, name="job"),
    path(W + "jobs/<int:pk>/download/", views.job_download, name="download"),
    path(W + "p/<str:key>/backlog/export/background/", views.items_csv_offer, name="items-csv"),
    path(
        W + "p/<str:key>/backlog/export/background/start/",
        views.items_csv_start,
        name="items-csv-start",
    ),
]
