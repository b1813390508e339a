"""The live stream and presence (namespace ``live``)."""

from django.urls import path

from . import views

app_name = "live"
urlpatterns = [
    path("w/<slug:slug>/live/", views.stream, name="stream"),
    path("w/<slug:slug>/live/presence/", views.heartbeat, name="presence"),
]
