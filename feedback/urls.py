"""Pages of feedback (namespace ``feedback``): the members' pages under a
product's ``w/<slug>/p/<key>/`` and the public portal (no account needed).
Mounted at the site root; every route spells out its full path."""

from django.urls import path

from .views import customers, ideas, imports, inbox, portal

app_name = "feedback"

P = "w/<slug:slug>/p/<str:key>/"

urlpatterns = [
    path(f"{P}feedback/", inbox.inbox, name="feedback-inbox"),
    path(f"{P}feedback/new/", inbox.quick_add, name="feedback-add"),
    path(f"{P}feedback/export/", imports.export, name="feedback-export"),
    path(f"{P}feedback/import/", imports.import_start, name="feedback-import"),
    path(f"{P}feedback/import/<int:pk>/", imports.import_job, name="feedback-import-job"),
    path(f"{P}feedback/<int:pk>/link/", inbox.link, name="feedback-link"),
    path(f"{P}feedback/<int:pk>/state/", inbox.set_state, name="feedback-state"),
    path(f"{P}feedback/<int:pk>/edit/", inbox.edit_feedback, name="feedback-edit"),
    path(f"{P}feedback/<int:pk>/items/", inbox.item_search, name="feedback-item-search"),
    path(f"{P}insights/<int:pk>/delete/", inbox.unlink, name="insight-delete"),
    path(f"{P}customers/", customers.customers, name="feedback-customers"),
    path(f"{P}customers/<int:pk>/", customers.company_detail, name="feedback-company"),
    path(f"{P}portal/", ideas.portal_settings, name="feedback-portal-settings"),
    path(f"{P}items/<int:number>/publish/", ideas.publish, name="feedback-publish"),
    # The public portal: no account needed.
    path("portal/<slug:slug>/<str:key>/", portal.portal, name="portal"),
    path(
        "portal/<slug:slug>/<str:key>/ideas/<int:pk>/vote/",
        portal.vote,
        name="portal-vote",
    ),
    path("portal-vote/<str:token>/", portal.vote_confirm, name="portal-vote-confirm"),
    path("portal-unsubscribe/<str:token>/", portal.unsubscribe, name="portal-unsubscribe"),
]
