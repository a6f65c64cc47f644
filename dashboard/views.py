from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from dashboard.health import dependencies_check
from dashboard.metrics import metrics_access, metrics_render


@login_not_required
@never_cache
@require_GET
def healthz(request):
    checks = dependencies_check()
    down = sorted(name for name, result in checks.items() if not result["ok"])
    body = {"status": "ok" if not down else "unavailable", "down": down, "checks": checks}
    return JsonResponse(body, status=503 if down else 200)


@login_not_required
@never_cache
@require_GET
def metrics(request):
    """Prometheus scrape endpoint: bearer METRICS_TOKEN, or a logged-in staff user, admin or operator."""
    access = metrics_access(request)
    if access == "unauthenticated":
        response = HttpResponse("Authentication required: Authorization: Bearer <METRICS_TOKEN>.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if access == "forbidden":
        return HttpResponse("Metrics are for operators and admins.\n", status=403)
    return HttpResponse(metrics_render(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
