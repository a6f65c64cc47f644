"""Filters for showing order attributes on the order page (durations, money, ids: core's `console` filters)."""

import json

from django import template

register = template.Library()


@register.filter
def plain_value(value) -> str:
    """An order attribute for the properties list: lists/dicts as JSON, the rest as text."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, indent=2, default=str)
    return str(value)


@register.filter
def is_structured(value) -> bool:
    return isinstance(value, (list, dict))


@register.filter
def is_mapping(value) -> bool:
    return isinstance(value, dict)
