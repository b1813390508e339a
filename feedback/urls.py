"""Pages of feedback (namespace ``feedback``): the members' pages under a
product's ``w/<slug>/p/<key>/`` and the public portal (no account needed).
Mounted at the site root; every route spells out its full path."""

from django.urls import path

from . import portal_views, views

app_name = "feedback"

P = "w/<slug:slug>/p/<str:key>/"

urlpatterns = [
    path(f"{P}feedback/", views.inbox, name="feedback-inbox"),
    path(f"{P}feedback/new/", views.quick_add, name="feedback-add"),
    path(f"{P}feedback/export/", views.export, name="feedback-export"),
    path(f"{P}feedback/import/", views.import_start, name="feedback-import"),
    path(f"{P}feedback/import/<int:pk>/", views.import_job, name="feedback-import-job"),
    path(f"{P}feedback/<int:pk>/link/", views.link, name="feedback-link"),
    path(f"{P}feedback/<int:pk>/state/", views.set_state, name="feedback-state"),
    path(f"{P}feedback/<int:pk>/edit/", views.edit_feedback, name="feedback-edit"),
    path(f"{P}feedback/<int:pk>/items/", views.item_search, name="feedback-item-search"),
    path(f"{P}insights/<int:pk>/delete/", views.unlink, name="insight-delete"),
    path(f"{P}customers/", views.customers, name="feedback-customers"),
    path(f"{P}customers/<int:pk>/", views.company_detail, name="feedback-company"),
    path(f"{P}portal/", views.portal_settings, name="feedback-portal-settings"),
    path(f"{P}items/<int:number>/publish/", views.publish, name="feedback-publish"),
    # The public portal: no account needed.
    path("portal/<slug:slug>/<str:key>/", portal_views.portal, name="portal"),
    path(
        "portal/<slug:slug>/<str:key>/ideas/<int:pk>/vote/",
        portal_views.vote,
        name="portal-vote",
    ),
    path("portal-vote/<str:token>/", portal_views.vote_confirm, name="portal-vote-confirm"),
    path("portal-unsubscribe/<str:token>/", portal_views.unsubscribe, name="portal-unsubscribe"),
]
