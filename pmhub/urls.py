from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from archive import api as archive_api
from backlog import api as backlog_api
from discussions import api as discussions_api
from feedback import api as feedback_api
from metrics import api as metrics_api
from pmhub.accounts import api as accounts_api
from pmhub.activity import api as activity_api
from pmhub.api.routers import Router
from pmhub.webhooks import api as webhooks_api
from products import api as products_api
from questions import api as questions_api
from roadmaps import api as roadmaps_api
from specs import api as specs_api

router = Router()
router.register("workspaces", accounts_api.WorkspaceViewSet, basename="workspace")
router.register("members", accounts_api.MemberViewSet, basename="member")
router.register("products", products_api.ProductViewSet, basename="product")
router.register("objectives", products_api.ObjectiveViewSet, basename="objective")
router.register("key-results", products_api.KeyResultViewSet, basename="key-result")
router.register("competitors", products_api.CompetitorViewSet, basename="competitor")
router.register("personas", products_api.PersonaViewSet, basename="persona")
metrics_api.register(router)
router.register("items", backlog_api.ItemViewSet, basename="item")
router.register("scoring-models", backlog_api.ScoringModelViewSet, basename="scoring-model")
router.register("custom-fields", backlog_api.CustomFieldViewSet, basename="custom-field")
router.register("saved-views", backlog_api.SavedViewViewSet, basename="saved-view")
router.register("hypotheses", backlog_api.HypothesisViewSet, basename="hypothesis")
roadmaps_api.register(router)
feedback_api.register(router)
webhooks_api.register(router)
specs_api.register(router)
questions_api.register(router)
discussions_api.register(router)
archive_api.register(router)

# Each app's pages, in its own namespace ("products:strategy", ...). Every app
# spells out its full paths and no route is a catch-all, so the order of
# these includes does not matter (tests/test_urls.py checks it).
urlpatterns = [
    path("", include("pmhub.accounts.urls")),
    path("", include("pmhub.activity.urls")),
    path("", include("pmhub.live.urls")),
    path("", include("products.urls")),
    path("", include("metrics.urls")),
    path("", include("backlog.urls")),
    path("", include("roadmaps.urls")),
    path("", include("feedback.urls")),
    path("", include("specs.urls")),
    path("", include("questions.urls")),
    path("", include("pmhub.webhooks.urls")),
    path("", include("ops.urls")),  # /healthz and /metrics
    path("", include("discussions.urls")),
    path("", include("archive.urls")),
    # One router for the API; its route names are DRF's ("item-list", ...).
    path("api/v1/events/", activity_api.EventFeed.as_view(), name="event-list"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
]

handler400 = "pmhub.web.bad_request"
handler404 = "pmhub.api.views.not_found"
