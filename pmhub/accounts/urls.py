"""Pages of accounts (namespace ``accounts``): sign-in, sign-up, password,
API tokens, workspaces, members and invites, the home redirect (/healthz is in ops/).
Mounted at the site root; every route spells out its full path."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from pmhub import palette, undo

from . import views

app_name = "accounts"

W = "w/<slug:slug>/"

urlpatterns = [
    # The command palette's options (every app contributes: pmhub/palette.py).
    path("w/<slug:slug>/palette/", palette.palette_results, name="palette"),
    # Undo of the last delete, bulk edit or archive (pmhub/undo.py).
    path("w/<slug:slug>/undo/", undo.undo, name="undo"),
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", views.signup, name="signup"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(
            success_url=reverse_lazy("accounts:password_change_done")
        ),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/tokens/", views.tokens, name="tokens"),
    path("accounts/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("workspaces/new/", views.workspace_new, name="workspace-new"),
    path("invite/<str:token>/", views.invite_accept, name="invite-accept"),
    path(W + "members/", views.members, name="members"),
    path(W + "members/<int:pk>/role/", views.member_role, name="member-role"),
    path(W + "members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path(W + "invites/", views.invite_create, name="invite-create"),
    path(W + "invites/<int:pk>/revoke/", views.invite_revoke, name="invite-revoke"),
]
