"""Template tags of the execution pages; durations, ages and clock times are `core`'s `{% load console %}`."""

from __future__ import annotations

from django import template
from django.utils import timezone

from core.decoding import details_decode, payload_value, pretty, secrets_redact
from core.formatting import duration_text
from executions import formatting

register = template.Library()


@register.simple_tag
def activity(execution):
    return formatting.activity_html(execution)


@register.simple_tag
def execution_duration(execution):
    return duration_text(formatting.execution_duration_seconds(execution))


@register.filter
def prettyjson(value):
    return pretty(secrets_redact(payload_value(value)))


@register.filter
def decoded_details(details):
    return pretty(secrets_redact(details_decode(details)))


@register.filter
def reason_css(reason):
    code = reason.get("code", "") if isinstance(reason, dict) else ""
    return "bad" if code in ("invocation_failed", "timed_out", "callback_overdue", "step_retries") else ""


@register.filter
def reasons(value):
    """attention_reasons as a list of dicts whatever was stored (tolerant of strings)."""
    if not value:
        return []
    if isinstance(value, dict):
        value = [value]
    out = []
    for item in value:
        if isinstance(item, dict):
            out.append(item)
        else:
            out.append({"code": str(item), "message": str(item)})
    return out


@register.simple_tag(takes_context=True)
def url_with(context, **changes):
    """The current query string with some parameters replaced (None/'' removes them)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value not in (None, ""):
            query[key] = value
    for key in ("after", "before"):
        if key not in changes:
            query.pop(key, None)
    encoded = query.urlencode()
    return "?" + encoded if encoded else "?"


@register.filter
def statuslabel(status):
    return (status or "unknown").replace("_", " ").capitalize()


@register.filter
def opduration(op):
    """An operation's duration (so far, if it is still open)."""
    if not op.started_at:
        return ""
    end = op.ended_at or timezone.now()
    return duration_text((end - op.started_at).total_seconds())
