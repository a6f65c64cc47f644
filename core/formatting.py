"""The one way to write instants, durations, clock times, money, short ids and CSS-safe status names.

Instants: `instant_text` ("6 Dec 2026, 14:03 UTC", the site's time zone named) and `relative_text`
("3 m 10 s ago", "in 5 m"); templates use the `{% instant %}` tag (core/templatetags/console.py), which shows one
and puts the other in the hover title, as the user chose on /account/. Durations: `duration_text`.

`static/js/approvals.js` re-labels the live approval countdowns every second with the same rules as
`duration_text` (whole seconds: "42 s", "3 m 12 s", "2 h 59 m", "2 d 4 h"); change both together.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone

SHORT_ID_CHARS = 8


def duration_text(seconds: float | None) -> str:
    """350 ms · 4.2 s · 7 s · 12 s · 3 m 12 s · 3 h 12 m · 2 d 4 h ("" when unknown).

    Whole seconds are written whole ("7 s", not "7.0 s"): countdowns count in whole seconds.
    """
    if seconds is None:
        return ""
    seconds = max(0.0, float(seconds))
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 10 and not seconds.is_integer():
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} m {secs} s" if secs else f"{minutes} m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} m" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def instant_text(moment: datetime | None, *, seconds: bool = False, milliseconds: bool = False) -> str:
    """6 Dec 2026, 14:03 UTC: the date, the time and the time zone, always ("" when unknown); with `seconds`
    14:03:07, with `milliseconds` 14:03:07.042 (history events a few ms apart stay apart)."""
    if moment is None:
        return ""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    clock = local.strftime("%H:%M:%S" if seconds or milliseconds else "%H:%M")
    if milliseconds:
        clock += f".{local.microsecond // 1000:03d}"
    return f"{local.day} {local.strftime('%b %Y')}, {clock} {local.tzname() or timezone.get_current_timezone_name()}"


def relative_text(moment: datetime | None, *, now: datetime | None = None) -> str:
    """3 m 10 s ago · in 5 m · just now ("" when unknown): the distance to now, in `duration_text`'s words."""
    if moment is None:
        return ""
    delta = (moment - (now or timezone.now())).total_seconds()
    if abs(delta) < 1:
        return "just now"
    text = duration_text(abs(delta) if abs(delta) < 10 else round(abs(delta)))
    return f"in {text}" if delta > 0 else f"{text} ago"


def timezone_label() -> str:
    """The name of the time zone instants are written in (the site's), for filter labels: "UTC"."""
    return timezone.localtime(timezone.now()).tzname() or timezone.get_current_timezone_name()


def ms_text(ms: float | None) -> str:
    return "" if ms is None else duration_text(ms / 1000)


def clock_text(moment: datetime | None, *, now: datetime | None = None) -> str:
    """A short instant for dense places (timeline tooltips, activity lines), the zone always named:
    '14:05:09 UTC' within ten minutes, '14:05 UTC' today, otherwise '28 Nov, 14:05 UTC' (the site's time zone)."""
    if moment is None:
        return ""
    now = now or timezone.now()
    local = timezone.localtime(moment)
    zone = local.tzname() or timezone.get_current_timezone_name()
    if abs(moment - now) < timedelta(hours=20) and timezone.localtime(now).date() == local.date():
        clock = local.strftime("%H:%M:%S") if abs(moment - now) < timedelta(minutes=10) else local.strftime("%H:%M")
        return f"{clock} {zone}"
    return f"{local.day} {local.strftime('%b')}, {local.strftime('%H:%M')} {zone}"


def money_text(value) -> str:
    """1,234.50 ("—" when absent; text that is not a number is shown as it is)."""
    if value is None or value == "":
        return "—"
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


def short_id(value) -> str:
    """The first characters of a long id, as the inbox shows it."""
    return str(value or "")[:SHORT_ID_CHARS]


def status_class(status: str) -> str:
    """A CSS-safe class for an open-set status value."""
    return re.sub(r"[^A-Za-z0-9_-]", "", status or "") or "UNKNOWN"
