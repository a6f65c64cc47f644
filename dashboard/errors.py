"""Error pages that say what to do: the 500 page names the request id, a 405 (a GET on an action address)
points back to the page whose button performs the action."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.http import HttpResponseNotAllowed, HttpResponseServerError
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme

from core.request_context import current_request_id

logger = logging.getLogger(__name__)


def server_error(request, *args, **kwargs):
    """handler500: a styled page with the request id and a way back, rendered without the request's context
    (context processors and the database may be what failed)."""
    request_id = getattr(request, "id", None) or current_request_id() or ""
    try:
        html = loader.get_template("500.html").render({"request_id": request_id, "path": request.path})
    except Exception:  # the page must not fail in turn
        logger.exception("the 500 page could not be rendered")
        html = f"<h1>500 · Something went wrong</h1><p>Request id: {request_id}</p><p><a href='/'>Overview</a></p>"
    return HttpResponseServerError(html)


def _back_path(request) -> str:
    """Where the action's button is: the referring page of this site, else the action address's parent page."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        parts = urlsplit(referer)
        if parts.path != request.path:
            return parts.path + (f"?{parts.query}" if parts.query else "")
    path = request.path.rstrip("/")
    parent = path.rsplit("/", 1)[0] + "/" if "/" in path.strip("/") else "/"
    return parent


class MethodNotAllowedPageMiddleware:
    """A browser GET on a POST-only action address gets a page that explains it, instead of a blank 405.
    htmx and non-HTML clients keep the plain response; the status and the Allow header stay."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            not isinstance(response, HttpResponseNotAllowed)
            or request.method not in ("GET", "HEAD")
            or request.headers.get("HX-Request")
            or "text/html" not in request.headers.get("Accept", "text/html")
        ):
            return response
        allowed = [method.strip() for method in response.get("Allow", "").split(",") if method.strip()]
        html = loader.render_to_string(
            "405.html", {"allowed": allowed, "back_path": _back_path(request), "action_path": request.path}, request
        )
        page = HttpResponseNotAllowed(allowed, html)
        page["Content-Type"] = "text/html; charset=utf-8"
        return page
