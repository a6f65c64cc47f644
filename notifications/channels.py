"""The two ways out: email through Django's email framework, and a signed JSON POST to a webhook.

Each sender delivers one rendered message for one row and raises on any failure (the engine retries it).
Both carry an id derived from the row's dedupe key (the email's Message-ID, the webhook's `id` field and
`X-Durable-Console-Delivery` header), so a message sent again after a crash between sending and recording
it is recognisable as the same notification. Neither carries a callback id or a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from notifications.messages import Message
from notifications.models import Notification

SIGNATURE_HEADER = "X-Durable-Console-Signature"
DELIVERY_HEADER = "X-Durable-Console-Delivery"
USER_AGENT = "durable-console-notifications/1"


class WebhookRefused(Exception):
    """The receiver answered with a status other than 2xx."""


def message_id(notification: Notification) -> str:
    """The same Message-ID for every attempt of one notification (128 bits of its dedupe key: short enough for
    the header to stay on one line)."""
    domain = settings.NOTIFY_FROM.rpartition("@")[2].strip(" >") or "durable-console.localhost"
    return f"<{notification.dedupe_key[:32]}@{domain}>"


def email_send(*, notification: Notification, message: Message) -> None:
    headers = {"Message-ID": message_id(notification), "Auto-Submitted": "auto-generated"}
    if message.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.NOTIFY_FROM,
        to=[notification.recipient],
        headers=headers,
    )
    email.attach_alternative(message.html, "text/html")
    email.send(fail_silently=False)


def webhook_signature(body: bytes, secret: str) -> str:
    """The X-Durable-Console-Signature value: sha256=<HMAC-SHA256 of the exact body, hex>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def slack_escape(text: str) -> str:
    """Text that Slack shows as written: its control characters &, < and > escaped (Slack's formatting rules), so a
    customer name cannot become a mention (`<!channel>`) or a link with words of its own (`<url|Approve here>`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_body(*, notification: Notification, message: Message) -> bytes:
    """The JSON body: Slack's `text` escaped for Slack; the structured fields as they are (JSON escapes them)."""
    payload = {"text": slack_escape(message.summary), "id": notification.dedupe_key, **message.fields}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is an answer other than 2xx: the POST is not replayed elsewhere


def webhook_send(*, notification: Notification, message: Message) -> None:
    body = webhook_body(notification=notification, message=message)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        DELIVERY_HEADER: notification.dedupe_key,
    }
    if settings.NOTIFY_WEBHOOK_SECRET:
        headers[SIGNATURE_HEADER] = webhook_signature(body, settings.NOTIFY_WEBHOOK_SECRET)
    request = urllib.request.Request(notification.recipient, data=body, headers=headers, method="POST")  # noqa: S310
    if request.type not in ("http", "https"):
        raise WebhookRefused(f"not an http(s) URL: {request.type}")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=settings.NOTIFY_WEBHOOK_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise WebhookRefused(f"HTTP {error.code} {error.reason}") from None
    if not 200 <= status < 300:
        raise WebhookRefused(f"HTTP {status}")


SENDERS = {"email": email_send, "webhook": webhook_send}
