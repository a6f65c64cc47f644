from django import template
from django.utils.safestring import mark_safe

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


# --- the inbox row -------------------------------------------------------------------------------
# The inbox renders up to APPROVALS_PAGE_SIZE rows every refresh, and template variable lookups were most
# of the page's cost (benchmarks/inbox.py), so a row is built here with format_html (every value escaped).

_ROW = (
    '<tr id="order-{key}" class="inbox-row deadline-{state}">'
    '<td class="nowrap"><a class="mono" href="{path}">{short_id}</a></td>'
    '<td class="customer">{customer}</td>'
    '<td class="num">{amount}</td>'
    '<td class="num">{items}</td>'
    "<td>{requester}{you}</td>"
    '<td class="nowrap" title="Created {created}">{age}</td>'
    '<td class="nowrap countdown" title="Deadline {deadline}">'
    '<span class="deadline {state}"{live}>{label}</span>{bar}</td>'
    '<td class="actions" hx-boost="true" hx-push-url="false" hx-target="closest tr" hx-swap="outerHTML">'
    "{actions}</td></tr>"
)
_BAR = '<div class="bar {state}"><span style="width: {percent}%"></span></div>'
_ACTIONS = (
    '<details class="decide"><summary class="btn small approve">Approve</summary>'
    '<form class="popover" method="post" action="{path}approve">{csrf}{back}'
    '<label>Comment <span class="muted">(optional)</span>'
    '<textarea name="comment" rows="2" maxlength="2000"></textarea></label>'
    '<button class="btn small approve" type="submit">Confirm approval</button></form></details>'
    '<details class="decide"{open}><summary class="btn small reject">Reject</summary>'
    '<form class="popover" method="post" action="{path}reject">{csrf}{back}'
    '<label>Reason <span class="muted">(required)</span>{errors}'
    '<textarea name="reason" rows="2" maxlength="2000" required></textarea></label>'
    '<button class="btn small reject" type="submit">Confirm rejection</button></form></details>'
)


def _errorlist(errors) -> str:
    from django.utils.html import format_html, format_html_join

    if not errors:
        return ""
    return format_html('<ul class="errorlist">{}</ul>', format_html_join("", "<li>{}</li>", ((e,) for e in errors)))


@register.simple_tag(takes_context=True)
def inbox_row(context, row):
    """One inbox row: the order, its countdown, and the approve/reject popovers (or why it cannot be decided)."""
    from django.utils.html import format_html

    order, countdown = row.order, row.countdown
    if row.note:
        actions = format_html('<span class="muted small">{}</span>', row.note)
    else:
        reject_form = context.get("reject_form")
        errors = reject_form.errors.get("reason", []) if reject_form is not None and reject_form.is_bound else []
        actions = format_html(
            _ACTIONS,
            path=row.path,
            csrf=context.get("csrf_input", ""),
            back=context.get("next_input", ""),
            open=mark_safe(" open") if context.get("reject_open") else "",
            errors=_errorlist(errors),
        )
    return format_html(
        _ROW,
        key=row.key,
        state=countdown.state,
        path=row.path,
        short_id=row.short_id,
        customer=order.customer_name or "—",
        amount=money(order.amount),
        items=order.items_count,
        requester=order.requested_by or "—",
        you=mark_safe(' <span class="tag">you</span>') if row.own else "",
        created=order.created_at_raw,
        age=row.age_text,
        deadline=row.deadline_text,
        label=countdown.label,
        live=format_html(' data-deadline="{}" data-window="{}"', row.deadline_iso, countdown.window_seconds or "")
        if row.deadline_iso
        else "",
        bar=format_html(_BAR, state=countdown.state, percent=row.percent_left) if row.percent_left is not None else "",
        actions=actions,
    )
