"""The ingest endpoints: `POST /ingest/operations` (the push plugin's batches) and `POST /ingest/eventbridge`
(EventBridge status-change events, as an API destination posts them).

They are CSRF-exempt only because they take no cookie: every request must carry `Authorization: Bearer
<INGEST_TOKEN>` (compared in constant time; an empty INGEST_TOKEN refuses everything). Before the token is even
read, each client address has INGEST_RATE_LIMIT requests per endpoint (django-ratelimit on the shared cache; 429
with Retry-After past it). A body over 1 MB is refused (413) from its Content-Length, or after reading 1 MB and
one byte when it has none; malformed, too deeply nested or wrongly shaped JSON gets a 400 that says what is wrong.
Every refusal is counted in durable_console_push_rejected_total{reason}. The views only parse and call one service.
"""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.core import get_usage

from core.counters import PUSH_REJECTED, counter_incr
from core.decoding import json_depth
from core.login_throttle import client_address
from executions.push.ingest import eventbridge_event_ingest, operations_push_ingest
from executions.push.wire import MAX_BODY_BYTES, MAX_DEPTH, WireError

UNAUTHORIZED, RATE_LIMITED, TOO_LARGE, MALFORMED, TOO_DEEP = (
    "unauthorized",
    "rate_limited",
    "too_large",
    "malformed",
    "too_deep",
)


class Refused(Exception):
    def __init__(self, status: int, reason: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.reason, self.headers = status, reason, headers or {}


def _client(group: str, request) -> str:
    return client_address(request) or "unknown"


def _rate_check(request, group: str) -> None:
    usage = get_usage(request, group=group, key=_client, rate=settings.INGEST_RATE_LIMIT, increment=True)
    if usage is not None and usage["should_limit"]:
        wait = max(1, int(usage["time_left"]))
        raise Refused(429, RATE_LIMITED, f"Too many requests: try again in {wait} s.", {"Retry-After": str(wait)})


def _token_check(request) -> None:
    token = settings.INGEST_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Refused(
            401,
            UNAUTHORIZED,
            "Authentication required: Authorization: Bearer <INGEST_TOKEN>.",
            {"WWW-Authenticate": 'Bearer realm="ingest"'},
        )


def _json_body(request):
    """The parsed body, read no further than MAX_BODY_BYTES and one byte."""
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    too_large = f"The body is larger than {MAX_BODY_BYTES:,} bytes: send smaller batches."
    if declared > MAX_BODY_BYTES:
        raise Refused(413, TOO_LARGE, too_large)
    raw = request.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise Refused(413, TOO_LARGE, too_large)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, MALFORMED, "The body is not UTF-8 text.")
    if json_depth(text, cap=MAX_DEPTH) > MAX_DEPTH:
        raise Refused(400, TOO_DEEP, f"The JSON nests deeper than {MAX_DEPTH} levels.")
    try:
        return json.loads(text)
    except ValueError as error:
        raise Refused(400, MALFORMED, f"The body is not JSON: {error}.")


def _ingest(request, *, group: str, handle) -> JsonResponse:
    try:
        _rate_check(request, group)
        _token_check(request)
        body = _json_body(request)
        try:
            result = handle(body, timezone.now())
        except WireError as error:
            raise Refused(400, error.reason, str(error))
    except Refused as refusal:
        counter_incr(PUSH_REJECTED, reason=refusal.reason)
        response = JsonResponse({"error": str(refusal), "reason": refusal.reason}, status=refusal.status)
        for name, value in refusal.headers.items():
            response[name] = value
        return response
    return JsonResponse(result.as_json())


@csrf_exempt  # a bearer token, never a cookie: there is no cross-site request to forge
@login_not_required
@never_cache
@require_POST
def ingest_operations(request):
    """A batch of the push plugin (schema 1): what was accepted, applied, ignored and refused (and why)."""
    return _ingest(
        request, group="ingest_operations", handle=lambda body, now: operations_push_ingest(batch=body, now=now)
    )


@csrf_exempt  # a bearer token, never a cookie: there is no cross-site request to forge
@login_not_required
@never_cache
@require_POST
def ingest_eventbridge(request):
    """One EventBridge `Durable Execution Status Change` event: applied, duplicate, ignored or rejected."""
    return _ingest(
        request, group="ingest_eventbridge", handle=lambda body, now: eventbridge_event_ingest(event=body, now=now)
    )
