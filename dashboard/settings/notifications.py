"""Notifications: email (EMAIL_URL, or Amazon SES through django-anymail), webhooks, reminders and digests."""

import botocore.config

from .aws import AWS_REGION
from .base import LOCAL_MODE, env
from .celery import CELERY_TASK_TIME_LIMIT

# The embedded SMTP sink that `make run` starts when EMAIL_URL is not set (messages under var/mail/).
MAIL_SINK_PORT = env.int("MAIL_SINK_PORT", default=1025)
# django-environ's email URL: smtp://, smtp+tls://, smtp+ssl://, consolemail://, filemail://, memorymail://, dummymail://
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default=f"smtp://127.0.0.1:{MAIL_SINK_PORT}" if LOCAL_MODE else "consolemail://"
)
vars().update(EMAIL_CONFIG)
# Production through SES: EMAIL_BACKEND=anymail.backends.amazon_ses.EmailBackend (boto3, region AWS_REGION).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=EMAIL_CONFIG["EMAIL_BACKEND"])
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# One attempt with short timeouts: a hung SES call ends long before the claim lease (NOTIFY_CLAIM_LEASE_SECONDS)
# could hand the row to another worker; the delivery engine retries with backoff instead.
ANYMAIL = {
    "AMAZON_SES_CLIENT_PARAMS": {
        "region_name": AWS_REGION,
        "config": botocore.config.Config(
            connect_timeout=3, read_timeout=10, retries={"total_max_attempts": 1, "mode": "standard"}
        ),
    }
}
NOTIFY_FROM = env.str("NOTIFY_FROM", default="durable-console@localhost")
DEFAULT_FROM_EMAIL = NOTIFY_FROM
# Links in messages are absolute, built from this.
CONSOLE_BASE_URL = env.str("CONSOLE_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

NOTIFY_WEBHOOK_URLS = env.list("NOTIFY_WEBHOOK_URLS", default=[])
NOTIFY_WEBHOOK_SECRET = env.str("NOTIFY_WEBHOOK_SECRET", default="")
NOTIFY_WEBHOOK_TIMEOUT_SECONDS = env.float("NOTIFY_WEBHOOK_TIMEOUT_SECONDS", default=5.0)

# More than NOTIFY_BATCH_SIZE new pending orders for one approver within NOTIFY_BATCH_SECONDS: one digest.
NOTIFY_BATCH_SIZE = env.int("NOTIFY_BATCH_SIZE", default=5)
NOTIFY_BATCH_SECONDS = env.int("NOTIFY_BATCH_SECONDS", default=60)
# Reminders to approvers at these fractions of an order's approval window; escalation to Admins at one.
NOTIFY_REMINDER_AT = [float(x) for x in env.list("NOTIFY_REMINDER_AT", default=["0.5", "0.9"])]
NOTIFY_ESCALATE_AT = env.float("NOTIFY_ESCALATE_AT", default=0.9)
# At most one digest email per recipient per this many minutes.
NOTIFY_DIGEST_MINUTES = env.float("NOTIFY_DIGEST_MINUTES", default=15)
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=5)
NOTIFY_RETRY_BASE_SECONDS = env.float("NOTIFY_RETRY_BASE_SECONDS", default=30)
# The beat task that finds due notifications and sends them.
NOTIFY_CHECK_SECONDS = env.int("NOTIFY_CHECK_SECONDS", default=15)
# A row claimed longer ago than this by a worker that died is claimable again: longer than the notifications tasks'
# hard time limit (CELERY_TASK_TIME_LIMIT), so a worker still sending never loses its claim.
NOTIFY_CLAIM_LEASE_SECONDS = env.int("NOTIFY_CLAIM_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 30)
# Each check also reads the orders created within this many hours that are approved, rejected, expired or failed,
# and tells the requesters not told yet (orders decided before a check ever saw them pending). Longer than the
# longest approval window plus a margin.
NOTIFY_OUTCOME_LOOKBACK_HOURS = env.float("NOTIFY_OUTCOME_LOOKBACK_HOURS", default=72)
