from django.urls import path

from . import launch_views, views

urlpatterns = [
    path("", views.backlog_list, name="backlog"),
    path("items/new/", views.item_create, name="item-create"),
    path("items/bulk/", views.bulk_edit, name="items-bulk"),
    path("items/<int:number>/", views.item_detail, name="item"),
    path("items/<int:number>/delete/", views.item_delete, name="item-delete"),
    path("items/<int:number>/move/", views.item_move, name="item-move"),
    path("items/<int:number>/cell/<str:field>/", views.cell_edit, name="item-cell"),
    path("views/save/", views.view_save, name="view-save"),
    path("views/<int:pk>/delete/", views.view_delete, name="view-delete"),
    path("scoring/", views.scoring_page, name="scoring"),
    path("scoring/new/", views.scoring_create, name="scoring-create"),
    path("scoring/progress/", views.recompute_progress, name="recompute-progress"),
    path("scoring/<int:pk>/", views.scoring_update, name="scoring-update"),
    path("scoring/<int:pk>/activate/", views.scoring_activate, name="scoring-activate"),
    path("scoring/<int:pk>/delete/", views.scoring_delete, name="scoring-delete"),
    path("export/", views.export_items, name="items-export"),
    path("import/", views.import_start, name="import"),
    path("import/<int:pk>/", views.import_job, name="import-job"),
    path("fields/", views.fields_page, name="custom-fields"),
    path("fields/<int:pk>/delete/", views.field_delete, name="custom-field-delete"),
    path("launch-reviews/", launch_views.launch_reviews_page, name="launch-reviews"),
    path("items/<int:number>/launch/", launch_views.launch_review, name="launch-review"),
    path(
        "items/<int:number>/launch/hypothesis/",
        launch_views.hypothesis_save,
        name="hypothesis-save",
    ),
    path(
        "items/<int:number>/launch/hypothesis/delete/",
        launch_views.hypothesis_delete,
        name="hypothesis-delete",
    ),
    path(
        "items/<int:number>/launch/learnings/", launch_views.learnings_save, name="learnings-save"
    ),
]
