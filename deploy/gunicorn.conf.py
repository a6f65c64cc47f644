"""gunicorn settings for the web process: `gunicorn -c deploy/gunicorn.conf.py`.

Everything can be overridden from the environment (PORT, WEB_CONCURRENCY,
WEB_THREADS, WEB_TIMEOUT, FORWARDED_ALLOW_IPS, LOG_FORMAT).
"""

import multiprocessing
import os

wsgi_app = "dashboard.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2 + 1)))
# Pages wait on the database, not the CPU: a few threads per worker serve htmx polling cheaply.
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then (bounded memory), staggered so they do not restart together.
max_requests = 2000
max_requests_jitter = 200
# The load balancer terminates TLS and sets X-Forwarded-Proto; trust it only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(D)sus request_id=%({x-request-id}o)s'

if os.environ.get("LOG_FORMAT", "json") == "json":
    # One JSON object per line for both gunicorn's own logs and the access log (fields, not a string).
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
            "error_console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["error_console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
        "root": {"level": "INFO", "handlers": []},
    }
