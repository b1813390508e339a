from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from backlog import api as backlog_api
from feedback import api as feedback_api
from feedback import urls as feedback_urls
from metrics import api as metrics_api
from pmhub.accounts import api as accounts_api
from pmhub.accounts import views as accounts_views
from products import api as products_api
from roadmaps import api as roadmaps_api
from roadmaps import urls as roadmaps_urls

router = DefaultRouter()
router.register("workspaces", accounts_api.WorkspaceViewSet, basename="workspace")
router.register("products", products_api.ProductViewSet, basename="product")
router.register("objectives", products_api.ObjectiveViewSet, basename="objective")
router.register("key-results", products_api.KeyResultViewSet, basename="key-result")
router.register("competitors", products_api.CompetitorViewSet, basename="competitor")
router.register("personas", products_api.PersonaViewSet, basename="persona")
metrics_api.register(router)
router.register("items", backlog_api.ItemViewSet, basename="item")
router.register("scoring-models", backlog_api.ScoringModelViewSet, basename="scoring-model")
router.register("hypotheses", backlog_api.HypothesisViewSet, basename="hypothesis")
roadmaps_api.register(router)
feedback_api.register(router)

account_patterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", accounts_views.signup, name="signup"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path("tokens/", accounts_views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", accounts_views.token_revoke, name="token-revoke"),
]

workspace_patterns = [
    path("members/", accounts_views.members, name="members"),
    path("members/<int:pk>/role/", accounts_views.member_role, name="member-role"),
    path("members/<int:pk>/remove/", accounts_views.member_remove, name="member-remove"),
    path("invites/", accounts_views.invite_create, name="invite-create"),
    path("invites/<int:pk>/revoke/", accounts_views.invite_revoke, name="invite-revoke"),
    path("p/<str:key>/backlog/", include("backlog.urls")),
    path("", include(roadmaps_urls.workspace_patterns)),
    path("", include(feedback_urls.workspace_patterns)),
    path("", include("products.urls")),
]

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("healthz", accounts_views.healthz, name="healthz"),
    path("accounts/", include(account_patterns)),
    path("workspaces/new/", accounts_views.workspace_new, name="workspace-new"),
    path("invite/<str:token>/", accounts_views.invite_accept, name="invite-accept"),
    path("w/<slug:slug>/", include(workspace_patterns)),
    path("", include(roadmaps_urls.public_patterns)),
    path("", include(feedback_urls.public_patterns)),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
]

handler404 = "pmhub.api.views.not_found"
