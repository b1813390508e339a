"""Pages of discussions (namespace ``discussions``)."""

from django.urls import path, register_converter

from .views import notifications, panel


class LabelConverter:
    regex = r"[a-z_]+\.[a-z_]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(LabelConverter, "label")

app_name = "discussions"

W = "w/<slug:slug>/"
T = W + "discuss/<label:label>/<int:oid>/"

urlpatterns = [
    path(T, panel.thread, name="thread"),
    path(T + "comments/", panel.comment_create, name="comment-create"),
    path(T + "watch/", panel.watch, name="watch"),
    path(W + "comments/<int:pk>/edit/", panel.comment_edit, name="comment-edit"),
    path(W + "comments/<int:pk>/delete/", panel.comment_delete, name="comment-delete"),
    path(W + "comments/<int:pk>/react/", panel.comment_react, name="comment-react"),
    path(W + "discuss/members/", panel.members, name="members"),
    path(W + "notifications/", notifications.notifications, name="notifications"),
    path(W + "notifications/bell/", notifications.bell, name="bell"),
    path(W + "notifications/read/", notifications.mark_read, name="mark-read"),
    path(W + "notifications/read-all/", notifications.mark_all_read, name="mark-all-read"),
    path(W + "discussions/settings/", notifications.discussion_settings, name="settings"),
    path("notifications/preferences/", notifications.preferences, name="preferences"),
    path("notifications/unsubscribe/<str:token>/", notifications.unsubscribe, name="unsubscribe"),
]
