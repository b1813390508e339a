"""Pages of specs (namespace ``specs``), under an item's page. Mounted at the
site root; every route spells out its full path."""

from django.urls import path

from . import views

app_name = "specs"

S = "w/<slug:slug>/p/<str:key>/backlog/items/<int:number>/spec/"

urlpatterns = [
    path(S, views.spec_page, name="spec"),
    path(S + "review/", views.request_review, name="spec-review"),
    path(S + "verdict/", views.decide, name="spec-verdict"),
    path(S + "versions/", views.versions, name="spec-versions"),
    path(S + "export.md", views.export_markdown, name="spec-export"),
]
