import re
import time
import uuid
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import middleware as auth_middleware
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from core.request_context import reset_request_id, set_request_id

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Gives every request an id (X-Request-ID, or a new uuid) for the logs and the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = set_request_id(request.id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request.id
        return response


SESSION_STARTED_KEY = "console_session_started"
SESSION_ACTIVE_KEY = "console_last_activity"
# Activity is written to the session at most this often (every click would be a session write).
ACTIVITY_RESOLUTION_SECONDS = 30


def request_is_poll(request) -> bool:
    """An auto-refresh poll (htmx, tagged by static/js/console.js): not a person doing something."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("X-Console-Poll") == "1"


def session_started(sender, request, user, **kwargs):
    """At sign-in (user_logged_in): the session's start and first activity, written with the login itself."""
    now = time.time()
    request.session[SESSION_STARTED_KEY] = now
    request.session[SESSION_ACTIVE_KEY] = now


class SessionIdleMiddleware:
    """Signs a user out after SESSION_IDLE_SECONDS without activity, and SESSION_COOKIE_AGE after sign-in.

    Auto-refresh polls keep the page current but are not activity, so a dashboard left open on a screen
    still signs out. Runs after AuthenticationMiddleware and before LoginRequiredMiddleware, which then
    sends the signed-out request to the login page (a whole-page redirect for htmx).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.setdefault(SESSION_STARTED_KEY, now)
            last = session.get(SESSION_ACTIVE_KEY, started)
            if now - last > settings.SESSION_IDLE_SECONDS or now - started > settings.SESSION_COOKIE_AGE:
                auth.logout(request)
            elif not request_is_poll(request) and now - last >= ACTIVITY_RESOLUTION_SECONDS:
                session[SESSION_ACTIVE_KEY] = now
        return self.get_response(request)


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's login-required-everywhere, plus: an htmx request (a polled table or badge) whose session has
    expired makes the whole page go to the login page, instead of swapping the login form into a fragment."""

    def handle_no_permission(self, request, view_func):
        response = super().handle_no_permission(request, view_func)
        if request.headers.get("HX-Request") == "true" and response.status_code == 302:
            login = urlsplit(response["Location"])
            # Come back to the page the fragment belongs to, not to the fragment itself.
            current = request.headers.get("HX-Current-URL", "")
            target = response["Location"]
            if current and url_has_allowed_host_and_scheme(current, allowed_hosts={request.get_host()}):
                parts = urlsplit(current)
                back = parts.path + (f"?{parts.query}" if parts.query else "")
                target = f"{login.path}?{urlencode({self.get_redirect_field_name(view_func): back})}"
            return HttpResponseClientRedirect(target, status=204)
        return response
