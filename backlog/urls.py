"""Pages of the backlog (namespace ``backlog``), under a product's
``w/<slug>/p/<key>/backlog/``. Mounted at the site root."""

from django.urls import path

from .views import cells, export, fields, importing, item, launch, palette, scoring, table

app_name = "backlog"

B = "w/<slug:slug>/p/<str:key>/backlog/"
I = B + "items/<int:number>/"  # noqa: E741 (an item's pages)

urlpatterns = [
    path(B, table.backlog_list, name="backlog"),
    path(B + "items/new/", table.item_create, name="item-create"),
    path(B + "items/bulk/", table.bulk_edit, name="items-bulk"),
    path(I, item.item_detail, name="item"),
    path(I + "delete/", item.item_delete, name="item-delete"),
    path(I + "doc/", item.item_doc, name="item-doc"),
    path(I + "move/", item.item_move, name="item-move"),
    path(I + "set/", palette.item_set, name="item-set"),
    path(I + "cell/<str:field>/", cells.cell_edit, name="item-cell"),
    path(B + "views/save/", table.view_save, name="view-save"),
    path(B + "views/<int:pk>/delete/", table.view_delete, name="view-delete"),
    path(B + "scoring/", scoring.scoring_page, name="scoring"),
    path(B + "scoring/new/", scoring.scoring_create, name="scoring-create"),
    path(B + "scoring/progress/", scoring.recompute_progress, name="recompute-progress"),
    path(B + "scoring/<int:pk>/", scoring.scoring_update, name="scoring-update"),
    path(B + "scoring/<int:pk>/activate/", scoring.scoring_activate, name="scoring-activate"),
    path(B + "scoring/<int:pk>/delete/", scoring.scoring_delete, name="scoring-delete"),
    path(B + "export/", export.export_items, name="items-export"),
    path(B + "import/", importing.import_start, name="import"),
    path(B + "import/<int:pk>/", importing.import_job, name="import-job"),
    path(B + "fields/", fields.fields_page, name="custom-fields"),
    path(B + "fields/<int:pk>/delete/", fields.field_delete, name="custom-field-delete"),
    path(B + "launch-reviews/", launch.launch_reviews_page, name="launch-reviews"),
    path(I + "launch/", launch.launch_review, name="launch-review"),
    path(I + "launch/hypothesis/", launch.hypothesis_save, name="hypothesis-save"),
    path(I + "launch/hypothesis/delete/", launch.hypothesis_delete, name="hypothesis-delete"),
    path(I + "launch/learnings/", launch.learnings_save, name="learnings-save"),
]
