"""Security settings: HTTPS, HSTS and cookies in production; the /metrics and ingest tokens; /healthz caching;
sessions; login throttling (django-axes); the ingest rate limit (django-ratelimit); the Content-Security-Policy
(django-csp)."""

from datetime import timedelta

from .base import PRODUCTION, env

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The `preload` directive alone changes nothing: a domain enters browsers' preload list only when its
    # owner submits the apex domain. Sending it keeps `check --deploy` clean (security.W021).
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # /healthz (load balancers) and /metrics (Prometheus, bearer token) are probed over plain HTTP
    # inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    # htmx reads the CSRF token from the page (hx-headers on <body>), never from the cookie.
    CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# /metrics answers `Authorization: Bearer <METRICS_TOKEN>` (empty: only logged-in staff, admins, operators).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# POST /ingest/operations (the push plugin) and /ingest/eventbridge (an EventBridge API destination) answer only
# `Authorization: Bearer <INGEST_TOKEN>`; empty: both refuse everything (401). Required in production
# (`check --deploy`, dashboard.W004).
INGEST_TOKEN = env.str("INGEST_TOKEN", default="")
# Requests per client address (LOGIN_CLIENT_IP_HEADER behind a proxy) to each ingest endpoint, django-ratelimit's
# "count/period" form; past it, 429 with Retry-After. 6000/m is a fleet of about 100 concurrently running functions
# behind one NAT address, each flushing once a second; a wrong token is refused within the same budget.
INGEST_RATE_LIMIT = env.str("INGEST_RATE_LIMIT", default="6000/m")
# /healthz: anonymous callers get the state of a check run at most once per this many seconds (all processes).
HEALTH_CACHE_SECONDS = env.int("HEALTH_CACHE_SECONDS", default=10)

# Sessions: at most 8 h after sign-in, and signed out after 1 h without a click (auto-refresh polls do not count).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=3600)

# Login throttling (django-axes): a username is locked after AXES_FAILURE_LIMIT failures for AXES_COOLOFF_MINUTES.
# An address is locked only once it has failed with AXES_ADDRESS_USERNAME_LIMIT different usernames, so one
# person's lockout never locks out everyone behind the same proxy (core/login_throttle.py). The login page and
# /admin/login/ both authenticate through Django, so both are covered.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_MINUTES = env.float("AXES_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_ADDRESS_USERNAME_LIMIT = env.int("AXES_ADDRESS_USERNAME_LIMIT", default=10)
AXES_LOCKOUT_PARAMETERS = "core.login_throttle.lockout_parameters"
AXES_LOCKOUT_CALLABLE = "core.login_throttle.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# No start-up banner from every process (it would land in commands' output); failures are still logged.
AXES_VERBOSE = False
# Behind a load balancer REMOTE_ADDR is the balancer: name the header it sets (e.g. HTTP_X_FORWARDED_FOR)
# and how many proxies append to it. Only a header your proxy overwrites can be trusted.
LOGIN_CLIENT_IP_HEADER = env.str("LOGIN_CLIENT_IP_HEADER", default="")
LOGIN_PROXY_COUNT = env.int("LOGIN_PROXY_COUNT", default=1)
AXES_CLIENT_IP_CALLABLE = "core.login_throttle.client_address"

# Content-Security-Policy (django-csp): scripts only from our own origin, no inline script, no eval (htmx runs
# with allowEval off, base.html). Styles allow inline `style=` attributes: several pages size bars and
# columns with them (timeline, countdowns); no stylesheet is loaded from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
