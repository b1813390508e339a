"""Pages of roadmaps (namespace ``roadmaps``): the members' pages under
``w/<slug>/`` and the shared pages under ``s/<token>/`` (reached without an
account). Mounted at the site root; every route spells out its full path."""

from django.urls import path

from . import public, views

app_name = "roadmaps"

W = "w/<slug:slug>/"
R = W + "roadmaps/<int:pk>/"

urlpatterns = [
    path(W + "roadmaps/", views.workspace_roadmaps, name="roadmaps-home"),
    path(W + "p/<str:key>/roadmaps/", views.product_roadmaps, name="roadmaps"),
    path(R, views.roadmap_page, name="roadmap"),
    path(R + "settings/", views.roadmap_settings, name="roadmap-settings"),
    path(R + "delete/", views.roadmap_delete, name="roadmap-delete"),
    path(R + "picker/", views.item_picker, name="roadmap-picker"),
    path(R + "entries/add/", views.entry_add, name="roadmap-entry-add"),
    path(R + "entries/<int:eid>/", views.entry_detail, name="roadmap-entry"),
    path(R + "entries/<int:eid>/move/", views.entry_move, name="roadmap-entry-move"),
    path(R + "entries/<int:eid>/shift/", views.entry_shift, name="roadmap-entry-shift"),
    path(R + "entries/<int:eid>/remove/", views.entry_remove, name="roadmap-entry-remove"),
    path(R + "milestones/", views.milestone_add, name="roadmap-milestone-add"),
    path(
        R + "milestones/<int:mid>/delete/", views.milestone_delete, name="roadmap-milestone-delete"
    ),
    path(R + "dependencies/", views.dependency_add, name="roadmap-dependency-add"),
    path(
        R + "dependencies/<int:did>/delete/",
        views.dependency_delete,
        name="roadmap-dependency-delete",
    ),
    path(R + "lanes/", views.lane_add, name="roadmap-lane-add"),
    path(R + "lanes/<int:lid>/delete/", views.lane_delete, name="roadmap-lane-delete"),
    path(R + "target/", views.target_set, name="roadmap-target"),
    path(R + "share/", views.share_links, name="roadmap-share"),
    path(R + "share/<int:lid>/revoke/", views.share_link_revoke, name="roadmap-share-revoke"),
    # Shared with stakeholders: no account needed.
    path("s/<str:token>/", public.shared_roadmap, name="shared-roadmap"),
    path("s/<str:token>/unlock/", public.shared_unlock, name="shared-unlock"),
    path("s/<str:token>/entries/<int:eid>/", public.shared_entry, name="shared-entry"),
    path("s/<str:token>/feed/", public.ChangesFeed(), name="shared-feed"),
]
