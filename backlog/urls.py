"""Pages of the backlog (namespace ``backlog``), under a product's
``w/<slug>/p/<key>/backlog/``. Mounted at the site root."""

from django.urls import path

from . import launch_views, views

app_name = "backlog"

B = "w/<slug:slug>/p/<str:key>/backlog/"
I = B + "items/<int:number>/"  # noqa: E741 (an item's pages)

urlpatterns = [
    path(B, views.backlog_list, name="backlog"),
    path(B + "items/new/", views.item_create, name="item-create"),
    path(B + "items/bulk/", views.bulk_edit, name="items-bulk"),
    path(I, views.item_detail, name="item"),
    path(I + "delete/", views.item_delete, name="item-delete"),
    path(I + "move/", views.item_move, name="item-move"),
    path(I + "cell/<str:field>/", views.cell_edit, name="item-cell"),
    path(B + "views/save/", views.view_save, name="view-save"),
    path(B + "views/<int:pk>/delete/", views.view_delete, name="view-delete"),
    path(B + "scoring/", views.scoring_page, name="scoring"),
    path(B + "scoring/new/", views.scoring_create, name="scoring-create"),
    path(B + "scoring/progress/", views.recompute_progress, name="recompute-progress"),
    path(B + "scoring/<int:pk>/", views.scoring_update, name="scoring-update"),
    path(B + "scoring/<int:pk>/activate/", views.scoring_activate, name="scoring-activate"),
    path(B + "scoring/<int:pk>/delete/", views.scoring_delete, name="scoring-delete"),
    path(B + "export/", views.export_items, name="items-export"),
    path(B + "import/", views.import_start, name="import"),
    path(B + "import/<int:pk>/", views.import_job, name="import-job"),
    path(B + "fields/", views.fields_page, name="custom-fields"),
    path(B + "fields/<int:pk>/delete/", views.field_delete, name="custom-field-delete"),
    path(B + "launch-reviews/", launch_views.launch_reviews_page, name="launch-reviews"),
    path(I + "launch/", launch_views.launch_review, name="launch-review"),
    path(I + "launch/hypothesis/", launch_views.hypothesis_save, name="hypothesis-save"),
    path(I + "launch/hypothesis/delete/", launch_views.hypothesis_delete, name="hypothesis-delete"),
    path(I + "launch/learnings/", launch_views.learnings_save, name="learnings-save"),
]
