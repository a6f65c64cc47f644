"""Security settings: HTTPS, HSTS and cookies in production; the /metrics bearer token."""

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
