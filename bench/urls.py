"""The benchmark's URLconf: the application's own URLs, unchanged, followed
by the baseline views they are compared with."""

from django.urls import include, path

from . import baselines, discussions, roadmaps

urlpatterns = [
    path("", include("pmhub.urls")),
    path("__bench__/raw-items/", baselines.raw_items_view),
    path("__bench__/raw-items-authenticated/", baselines.raw_items_authenticated_view),
    path("__bench__/backlog-rows/", baselines.backlog_rows_view),
    path("__bench__/minimal-backlog/", baselines.minimal_backlog_view),
    path("__bench__/roadmap-cards/", roadmaps.cards_baseline_view),
    path("__bench__/roadmap-cards-fast/", roadmaps.fast_cards_view),
    path("__bench__/bare/", roadmaps.bare_view),
    path("__bench__/raw-update/", baselines.raw_update_view),
    path("__bench__/minimal-comments/", discussions.minimal_comments_view),
]
