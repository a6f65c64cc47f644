from django import template

from approvals.selectors import duration_label

register = template.Library()


@register.filter
def short_id(value) -> str:
    return str(value or "")[:8]


@register.filter
def age(seconds) -> str:
    if seconds is None:
        return "—"
    return duration_label(seconds)


@register.filter
def money(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{value:,.2f}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def percent(fraction) -> int:
    if fraction is None:
        return 0
    return max(0, min(100, round(fraction * 100)))


@register.filter
def plain_value(value) -> str:
    """An order attribute for the properties list: lists/dicts as JSON, the rest as text."""
    import json

    if isinstance(value, (list, dict)):
        return json.dumps(value, indent=2, default=str)
    return str(value)


@register.filter
def is_structured(value) -> bool:
    return isinstance(value, (list, dict))


@register.filter
def is_mapping(value) -> bool:
    return isinstance(value, dict)
