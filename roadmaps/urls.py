"""Pages of roadmaps (namespace ``roadmaps``): the members' pages under
``w/<slug>/`` and the shared pages under ``s/<token>/`` (reached without an
account). Mounted at the site root; every route spells out its full path."""

from django.urls import path

from .views import editor, entries, lists, palette, public, share

app_name = "roadmaps"

W = "w/<slug:slug>/"
R = W + "roadmaps/<int:pk>/"

urlpatterns = [
    path(W + "roadmaps/", lists.workspace_roadmaps, name="roadmaps-home"),
    path(W + "p/<str:key>/roadmaps/", lists.product_roadmaps, name="roadmaps"),
    path(W + "p/<str:key>/roadmaps/quick/", palette.palette_create, name="palette-create"),
    path(R + "place/", palette.palette_place, name="palette-place"),
    path(R, editor.roadmap_page, name="roadmap"),
    path(R + "settings/", editor.roadmap_settings, name="roadmap-settings"),
    path(R + "delete/", editor.roadmap_delete, name="roadmap-delete"),
    path(R + "picker/", entries.item_picker, name="roadmap-picker"),
    path(R + "entries/add/", entries.entry_add, name="roadmap-entry-add"),
    path(R + "entries/<int:eid>/", entries.entry_detail, name="roadmap-entry"),
    path(R + "entries/<int:eid>/move/", entries.entry_move, name="roadmap-entry-move"),
    path(R + "entries/<int:eid>/shift/", entries.entry_shift, name="roadmap-entry-shift"),
    path(R + "entries/<int:eid>/remove/", entries.entry_remove, name="roadmap-entry-remove"),
    path(R + "milestones/", editor.milestone_add, name="roadmap-milestone-add"),
    path(
        R + "milestones/<int:mid>/delete/", editor.milestone_delete, name="roadmap-milestone-delete"
    ),
    path(R + "dependencies/", editor.dependency_add, name="roadmap-dependency-add"),
    path(
        R + "dependencies/<int:did>/delete/",
        editor.dependency_delete,
        name="roadmap-dependency-delete",
    ),
    path(R + "lanes/", editor.lane_add, name="roadmap-lane-add"),
    path(R + "lanes/<int:lid>/delete/", editor.lane_delete, name="roadmap-lane-delete"),
    path(R + "target/", editor.target_set, name="roadmap-target"),
    path(R + "share/", share.share_links, name="roadmap-share"),
    path(R + "share/<int:lid>/revoke/", share.share_link_revoke, name="roadmap-share-revoke"),
    # Shared with stakeholders: no account needed.
    path("s/<str:token>/", public.shared_roadmap, name="shared-roadmap"),
    path("s/<str:token>/unlock/", public.shared_unlock, name="shared-unlock"),
    path("s/<str:token>/entries/<int:eid>/", public.shared_entry, name="shared-entry"),
    path("s/<str:token>/feed/", public.ChangesFeed(), name="shared-feed"),
    path("s/<str:token>/live/", public.shared_live, name="shared-live"),
]
