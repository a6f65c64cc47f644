"""Settings for Durable Console.

Every value comes from the environment with a safe local default. Production
differs only by environment variables (DURABLE_CONSOLE_ENV=production,
DATABASE_URL, CELERY_BROKER_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS, ...).
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

# "local" (laptop, embedded defaults, local AWS endpoints) or "production".
ENVIRONMENT = env.str("DURABLE_CONSOLE_ENV", default="local")
if ENVIRONMENT not in ("local", "production"):
    raise ImproperlyConfigured("DURABLE_CONSOLE_ENV must be 'local' or 'production'")
LOCAL_MODE = ENVIRONMENT == "local"
PRODUCTION = ENVIRONMENT == "production"

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DURABLE_CONSOLE_ENV=production: "
            "set it to a long random string (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
else:
    SECRET_KEY = env.str("SECRET_KEY", default="local-development-only-not-secret")

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "core",
    "dashboard",
    "approvals",
    "executions",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.console",
            ],
        },
    },
]

# SQLite under var/ locally; DATABASE_URL (PostgreSQL) in production.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'dashboard.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat) share the file: wait for locks
    # instead of failing, and take the write lock up front.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Locks and the API rate governor live in the cache, so it must be shared by
# every process: Redis when REDIS_URL is set, otherwise the database.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="durable-console"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "dashboard_cache",
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles") if PRODUCTION else "") or None
# Locally whitenoise serves straight from the app folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Security (production) -------------------------------------------------
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

# --- AWS --------------------------------------------------------------------
# boto3's standard endpoint variables switch between AWS and the local stack.
# Locally they default to the local services; in production they are unset.
AWS_REGION = env.str("AWS_REGION", default=env.str("AWS_DEFAULT_REGION", default="us-east-1"))
DYNAMODB_ENDPOINT_URL = (
    env.str("AWS_ENDPOINT_URL_DYNAMODB", default="http://127.0.0.1:8100" if LOCAL_MODE else "") or None
)
LAMBDA_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL_LAMBDA", default="http://127.0.0.1:3001" if LOCAL_MODE else "") or None
# Local services accept any credentials; real AWS uses the normal chain.
AWS_LOCAL_CREDENTIALS = LOCAL_MODE and not env.str("AWS_ACCESS_KEY_ID", default="")
AWS_CONNECT_TIMEOUT = env.float("AWS_CONNECT_TIMEOUT", default=3.0)
AWS_READ_TIMEOUT = env.float("AWS_READ_TIMEOUT", default=10.0)
AWS_MAX_ATTEMPTS = env.int("AWS_MAX_ATTEMPTS", default=3)

ORDERS_TABLE = env.str("ORDERS_TABLE", default="Orders")
ORDER_APPROVAL_FUNCTION = env.str("ORDER_APPROVAL_FUNCTION", default="OrderApproval")
DURABLE_FUNCTIONS = env.list("DURABLE_FUNCTIONS", default=[ORDER_APPROVAL_FUNCTION])

# --- Celery -----------------------------------------------------------------
# The embedded default needs no server: kombu's SQLAlchemy transport on SQLite.
# With REDIS_URL set, Redis is the broker too unless CELERY_BROKER_URL says otherwise.
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE: dict = {}
# Any number of beat processes may run: they elect one leader in the shared cache (dashboard/beat.py).
CELERY_BEAT_SCHEDULER = "dashboard.beat:LeaderScheduler"
BEAT_LEADER_TTL = env.int("BEAT_LEADER_TTL", default=30)
# Workers log through LOGGING below (JSON in production), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # With acks_late, a task whose worker died (SIGKILL, lost machine) is delivered again after this
    # many seconds. Keep it above the longest task and the longest countdown/ETA.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}

# --- Execution sync (the poller) ---------------------------------------------
# Every durable-API call of every process shares this budget (calls per second).
DURABLE_API_MAX_RPS = env.float("DURABLE_API_MAX_RPS", default=10.0)
DURABLE_API_MAX_WAIT_SECONDS = env.float("DURABLE_API_MAX_WAIT_SECONDS", default=30.0)
DURABLE_API_SLOWDOWN_SECONDS = env.int("DURABLE_API_SLOWDOWN_SECONDS", default=60)
SYNC_INTERVAL_SECONDS = env.int("SYNC_INTERVAL_SECONDS", default=10)
SYNC_LIST_OVERLAP_SECONDS = env.int("SYNC_LIST_OVERLAP_SECONDS", default=300)
SYNC_LIST_PAGE_SIZE = env.int("SYNC_LIST_PAGE_SIZE", default=1000)
SYNC_HISTORY_PAGE_SIZE = env.int("SYNC_HISTORY_PAGE_SIZE", default=1000)
# History marker age after which the sync restarts from the first page (AWS markers live 24 h).
SYNC_MARKER_MAX_AGE_SECONDS = env.int("SYNC_MARKER_MAX_AGE_SECONDS", default=23 * 3600)
POLL_ACTIVE_SECONDS = env.int("POLL_ACTIVE_SECONDS", default=2)
POLL_IDLE_BASE_SECONDS = env.int("POLL_IDLE_BASE_SECONDS", default=10)
POLL_BACKOFF_CAP_SECONDS = env.int("POLL_BACKOFF_CAP_SECONDS", default=300)
POLL_WAIT_GRACE_SECONDS = env.float("POLL_WAIT_GRACE_SECONDS", default=2.0)
EXECUTION_SYNC_LOCK_TTL = env.int("EXECUTION_SYNC_LOCK_TTL", default=CELERY_TASK_TIME_LIMIT + 30)
# Stuck and overdue detection.
ATTENTION_CALLBACK_SLA_SECONDS = env.int("ATTENTION_CALLBACK_SLA_SECONDS", default=24 * 3600)
ATTENTION_NO_PROGRESS_SECONDS = env.int("ATTENTION_NO_PROGRESS_SECONDS", default=15 * 60)
ATTENTION_WAIT_GRACE_SECONDS = env.int("ATTENTION_WAIT_GRACE_SECONDS", default=5 * 60)
ATTENTION_STEP_FAILED_ATTEMPTS = env.int("ATTENTION_STEP_FAILED_ATTEMPTS", default=3)
CELERY_BEAT_SCHEDULE["sync-durable-functions"] = {
    "task": "executions.sync_functions",
    "schedule": SYNC_INTERVAL_SECONDS,
    "options": {"expires": SYNC_INTERVAL_SECONDS},
}

# --- Metrics ----------------------------------------------------------------
# /metrics answers `Authorization: Bearer <METRICS_TOKEN>` (empty: only logged-in staff, admins, operators).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Product settings ---------------------------------------------------------
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="")

# Approvals (issue 3): inbox paging/refresh, decision retries, stale-claim release.
APPROVALS_PAGE_SIZE = env.int("APPROVALS_PAGE_SIZE", default=50)
APPROVALS_REFRESH_SECONDS = env.int("APPROVALS_REFRESH_SECONDS", default=10)
APPROVALS_BADGE_CACHE_SECONDS = env.int("APPROVALS_BADGE_CACHE_SECONDS", default=5)
APPROVALS_CALLBACK_ATTEMPTS = env.int("APPROVALS_CALLBACK_ATTEMPTS", default=3)
APPROVALS_CALLBACK_BACKOFF_SECONDS = env.float("APPROVALS_CALLBACK_BACKOFF_SECONDS", default=0.5)
# A claim (order in `deciding`) older than this is treated as abandoned by a crash.
APPROVALS_CLAIM_STALE_SECONDS = env.int("APPROVALS_CLAIM_STALE_SECONDS", default=300)
APPROVALS_CLAIM_RELEASE_INTERVAL_SECONDS = env.int("APPROVALS_CLAIM_RELEASE_INTERVAL_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["approvals.release_stale_claims"] = {
    "task": "approvals.release_stale_claims",
    "schedule": APPROVALS_CLAIM_RELEASE_INTERVAL_SECONDS,
    "options": {"expires": APPROVALS_CLAIM_RELEASE_INTERVAL_SECONDS},
}

# Execution pages (issue 5). READ_ONLY: no admin action is offered or accepted.
READ_ONLY = env.bool("READ_ONLY", default=False)
EXECUTIONS_PAGE_SIZE = env.int("EXECUTIONS_PAGE_SIZE", default=50)
HISTORY_PAGE_SIZE = env.int("HISTORY_PAGE_SIZE", default=200)
ACTIONS_PAGE_SIZE = env.int("ACTIONS_PAGE_SIZE", default=50)
LIST_REFRESH_SECONDS = env.int("LIST_REFRESH_SECONDS", default=15)
# After an admin action the execution's history is re-read for up to this long, until it settles.
ACTION_RESYNC_SECONDS = env.float("ACTION_RESYNC_SECONDS", default=3.0)
# A sync older than this is shown as stale (warning banner).
SYNC_STALE_SECONDS = env.int("SYNC_STALE_SECONDS", default=300)

# --- Logging ----------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "text")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
