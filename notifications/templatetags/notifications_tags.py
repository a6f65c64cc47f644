"""Template filters of the notification pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template

from notifications.models import Channel

register = template.Library()


@register.filter
def recipient_shown(notification) -> str:
    """An email address as is; a webhook URL as its origin only (Slack-style URLs carry their secret in the path)."""
    if notification.channel != Channel.WEBHOOK:
        return notification.recipient
    parts = urlsplit(notification.recipient)
    if not parts.scheme or not parts.hostname:
        return "webhook"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


@register.filter
def subject_shown(subject: str, width: int = 40) -> str:
    """A subject (an order id, an execution's ARN and reason, a digest key) cut in the middle to `width` characters:
    both ends say what it is about (an ARN's function and its execution name and reason)."""
    text = str(subject)
    if len(text) <= width:
        return text
    tail = (width * 3) // 5
    return f"{text[: width - tail - 1]}…{text[-tail:]}"
