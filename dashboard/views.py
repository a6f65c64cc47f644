from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from approvals import selectors as approvals_selectors
from core.formatting import instant_text, relative_text, timezone_label
from core.roles import ALL_ROLES, role_required
from dashboard import charts
from dashboard.account import account_time_display_get, account_time_display_set
from dashboard.health import dependencies_check, health_state, health_state_store
from dashboard.metrics import metrics_access, metrics_render
from dashboard.models import TimeDisplay
from dashboard.overview import overview_counts
from executions import selectors as executions_selectors
from executions.views import page_context


@require_GET
@role_required(*ALL_ROLES)
def overview(request):
    now = timezone.now()
    hourly = request.GET.get("range") == "24h"
    series = executions_selectors.executions_by_status_over_time(now=now, hourly=hourly, days=14)
    durations = approvals_selectors.decision_durations(since=now - timedelta(days=30))
    context = page_context(
        request,
        counts=overview_counts(now=now),
        status_chart=charts.status_chart(series, hourly=hourly),
        hourly=hourly,
        decision_chart=charts.decision_histogram(durations) if durations else None,
        decision_count=len(durations),
        decision_p50=charts.percentile(durations, 0.5),
        decision_p90=charts.percentile(durations, 0.9),
        attention_preview=executions_selectors.attention_list(limit=8),
        since_24h=(now - timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M"),
    )
    return render(request, "overview.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def account(request):
    """Any signed-in user: how times are written (absolute with the time zone, or relative), saved per user."""
    error = ""
    if request.method == "POST":
        choice = request.POST.get("time_display", "")
        if choice in TimeDisplay.values:
            changed = account_time_display_set(request=request, choice=choice)
            messages.success(request, "Saved: times are now shown " + choice + "." if changed else "Nothing changed.")
            return redirect("account")
        error = "Choose absolute or relative."
    current = request.session.get("console_time_display") or account_time_display_get(user=request.user)
    now = timezone.now()
    example = now - timedelta(minutes=3, seconds=10)
    context = {
        "choices": TimeDisplay.choices,
        "current": current,
        "error": error,
        "example_absolute": instant_text(example),
        "example_relative": relative_text(example, now=now),
        "time_zone": timezone_label(),
    }
    return render(request, "account.html", context, status=400 if error else 200)


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """The state for anyone (cached); every dependency's detail for operators, admins and the metrics token."""
    if metrics_access(request) != "ok":
        state = health_state()
        return JsonResponse({"status": state}, status=200 if state == "ok" else 503)
    checks = dependencies_check()
    state = health_state_store(checks)
    down = sorted(name for name, result in checks.items() if not result["ok"])
    return JsonResponse({"status": state, "down": down, "checks": checks}, status=200 if state == "ok" else 503)


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
