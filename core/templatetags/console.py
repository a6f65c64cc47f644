"""Template filters every page uses: instants, durations, ages, clock times, money, short ids, status classes.

Instants: `{% instant moment %}` (one per page element; `seconds=True` for second precision) writes
`<time datetime="…" title="…">…</time>`: absolute with the time zone ("6 Dec 2026, 14:03 UTC") with the relative
form ("3 m ago") in the title, or the other way round when the signed-in user chose "relative" on /account/.
`{{ moment|instant_text }}` is the plain absolute text (for attributes, CSV). Durations: `{{ seconds|duration }}`,
`{{ milliseconds|ms }}`. `{% time_zone_label %}` names the time zone of date inputs ("UTC").
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

from core import formatting

register = template.Library()


TIME_DISPLAY_ABSOLUTE = "absolute"
TIME_DISPLAY_RELATIVE = "relative"
# The session key the signed-in user's choice is kept under (dashboard's /account/ page writes it, and copies the
# stored preference into the session at sign-in).
TIME_DISPLAY_SESSION_KEY = "console_time_display"


def time_display(request) -> str:
    """The signed-in user's choice, "absolute" (default) or "relative"."""
    session = getattr(request, "session", None)
    choice = session.get(TIME_DISPLAY_SESSION_KEY) if session is not None else None
    return TIME_DISPLAY_RELATIVE if choice == TIME_DISPLAY_RELATIVE else TIME_DISPLAY_ABSOLUTE


@register.simple_tag(takes_context=True)
def instant(context, moment, seconds=False, ms=False):
    """<time datetime="ISO" title="the other form">absolute or relative, as the user chose</time>; "—" when unknown.
    `seconds=True` / `ms=True`: the absolute form to the second / millisecond."""
    if not isinstance(moment, datetime):
        return format_html('<span class="muted">{}</span>', "—")
    absolute = formatting.instant_text(moment, seconds=seconds, milliseconds=ms)
    relative = formatting.relative_text(moment)
    shown, other = (
        (relative, absolute) if time_display(context.get("request")) == TIME_DISPLAY_RELATIVE else (absolute, relative)
    )
    return format_html('<time datetime="{}" title="{}">{}</time>', moment.isoformat(), other, shown)


@register.filter
def instant_text(moment):
    return formatting.instant_text(moment) if isinstance(moment, datetime) else ""


@register.simple_tag
def time_zone_label():
    return formatting.timezone_label()


@register.filter
def duration(seconds):
    return formatting.duration_text(seconds)


@register.filter
def ms(value):
    return formatting.ms_text(value)


@register.filter
def clock(moment):
    return formatting.clock_text(moment)


@register.filter
def age(value):
    """How long ago: `value` is a datetime, or already a number of seconds."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = (timezone.now() - value).total_seconds()
    return formatting.duration_text(value)


@register.filter
def until(moment):
    if not moment:
        return ""
    return formatting.duration_text((moment - timezone.now()).total_seconds())


@register.filter
def is_past(moment):
    return bool(moment and moment < timezone.now())


@register.filter
def money(value):
    return formatting.money_text(value)


@register.filter
def short_id(value):
    return formatting.short_id(value)


@register.filter
def statuscss(status):
    return formatting.status_class(status)


@register.filter
def percent(fraction) -> int:
    if fraction is None:
        return 0
    return max(0, min(100, round(fraction * 100)))
