"""Template filters every page uses: durations, ages, clock times, money, short ids, status classes."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from core import formatting

register = template.Library()


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
