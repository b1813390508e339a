"""``/healthz`` and ``/metrics``: what a load balancer and Prometheus read."""

import hmac

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from . import broker
from .collect import PMHubCollector
from .pending import all_pending


@require_GET
@never_cache
def healthz(request):
    """Liveness and dependencies: 200 when the database answers, else 503.
    The broker is checked on a pooled connection (none is opened per call),
    and the oldest pending background work is reported: a sweep that stopped
    shows as a growing age here."""
    result = {"database": "ok", "broker": "eager" if settings.CELERY_TASK_ALWAYS_EAGER else "ok"}
    status = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "down"
        result["database"] = f"error: {type(exc).__name__}"
        status = 503
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        error = broker.check()
        if error:  # the broker is optional for serving pages
            result["broker"] = f"error: {error}"
    if status == 200:
        now = timezone.now()
        pending = [p for p in all_pending(now) if p.count]
        oldest = max(pending, key=lambda p: p.age_seconds(now), default=None)
        result["pending"] = {p.kind: p.count for p in pending}
        result["oldest_pending"] = (
            None
            if oldest is None
            else {
                "kind": oldest.kind,
                "since": oldest.oldest.isoformat() if oldest.oldest else None,
                "age_seconds": round(oldest.age_seconds(now), 1),
            }
        )
    result["status"] = "ok" if status == 200 else "error"
    return JsonResponse(result, status=status)


@require_GET
@never_cache
def metrics(request):
    """Prometheus text format, for a scraper that sends
    ``Authorization: Bearer <METRICS_TOKEN>``. Without METRICS_TOKEN set the
    endpoint does not exist (404); a wrong or missing token is 401."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("A bearer token is needed.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PMHubCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
