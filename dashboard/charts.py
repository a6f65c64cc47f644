"""Small server-rendered SVG charts (no JavaScript, no library)."""

from __future__ import annotations

import math
from datetime import datetime

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

STATUS_COLOURS = {
    "SUCCEEDED": "#16a34a",
    "FAILED": "#dc2626",
    "TIMED_OUT": "#d97706",
    "STOPPED": "#7c3aed",
}
OTHER_COLOUR = "#6b7280"
DECISION_BUCKETS = [
    (60, "< 1 m"),
    (300, "1-5 m"),
    (900, "5-15 m"),
    (3600, "15 m-1 h"),
    (4 * 3600, "1-4 h"),
    (24 * 3600, "4-24 h"),
    (math.inf, "> 24 h"),
]


def _nice_max(value: int) -> int:
    if value <= 4:
        return max(1, value)
    magnitude = 10 ** int(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * magnitude:
            return int(factor * magnitude)
    return value


def _axis(width: int, height: int, pad_l: int, pad_b: int, top: int, max_value: int) -> list[str]:
    parts = []
    for fraction in (0, 0.5, 1):
        y = height - pad_b - fraction * (height - pad_b - top)
        value = max_value * fraction
        label = f"{value:g}" if value != int(value) else str(int(value))
        parts.append(f'<line x1="{pad_l}" x2="{width - 4}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{pad_l - 6}" y="{y + 4:.1f}" class="ylabel" text-anchor="end">{label}</text>')
    return parts


def status_chart(series: list[tuple[datetime, dict[str, int]]], *, hourly: bool = False) -> SafeString:
    """Stacked columns of finished executions per bucket, by final status."""
    width, height, pad_l, pad_b, top = 640, 210, 34, 24, 10
    statuses = list(STATUS_COLOURS)
    extra = sorted({s for _, counts in series for s in counts} - set(statuses))
    statuses += extra
    totals = [sum(counts.values()) for _, counts in series]
    max_value = _nice_max(max(totals, default=0))
    n = max(1, len(series))
    slot = (width - pad_l - 4) / n
    bar = max(3.0, slot * 0.7)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Finished executions by final status" preserveAspectRatio="none">'
    ]
    parts += _axis(width, height, pad_l, pad_b, top, max_value)
    plot_h = height - pad_b - top
    for index, (bucket, counts) in enumerate(series):
        x = pad_l + index * slot + (slot - bar) / 2
        y = height - pad_b
        local = timezone.localtime(bucket)
        label = local.strftime("%H:00") if hourly else local.strftime("%b %d")
        tip = [label] + [f"{s}: {counts[s]}" for s in statuses if counts.get(s)]
        parts.append(f"<g><title>{escape(' · '.join(tip) if len(tip) > 1 else label + ': none')}</title>")
        for status in statuses:
            count = counts.get(status, 0)
            if not count:
                continue
            h = count / max_value * plot_h
            y -= h
            colour = STATUS_COLOURS.get(status, OTHER_COLOUR)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}" '
                f'class="s-{escape(status)}"/>'
            )
        parts.append(
            f'<rect x="{x - (slot - bar) / 2:.1f}" y="{top}" width="{slot:.1f}" height="{plot_h}" '
            f'fill="transparent"/></g>'
        )
        every = max(1, round(n / 7))
        if index % every == 0 or index == n - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 7}" class="xlabel" text-anchor="middle">{label}</text>'
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span class="key"><i style="background:{STATUS_COLOURS.get(s, OTHER_COLOUR)}"></i>{escape(s)} '
        f"<b>{sum(c.get(s, 0) for _, c in series)}</b></span>"
        for s in statuses
        if s in STATUS_COLOURS or any(c.get(s) for _, c in series)
    )
    return mark_safe("".join(parts) + f'<div class="legend">{legend}</div>')  # noqa: S308 - values escaped above


def decision_histogram(durations: list[float]) -> SafeString:
    """Distribution of time-to-decision in human buckets, with the median marked in the caption."""
    width, height, pad_l, pad_b, top = 640, 210, 34, 24, 10
    counts = [0] * len(DECISION_BUCKETS)
    for seconds in durations:
        for index, (limit, _label) in enumerate(DECISION_BUCKETS):
            if seconds < limit:
                counts[index] += 1
                break
    max_value = _nice_max(max(counts, default=0))
    slot = (width - pad_l - 4) / len(counts)
    bar = slot * 0.72
    plot_h = height - pad_b - top
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Time from order to decision" preserveAspectRatio="none">'
    ]
    parts += _axis(width, height, pad_l, pad_b, top, max_value)
    for index, ((_limit, label), count) in enumerate(zip(DECISION_BUCKETS, counts, strict=True)):
        x = pad_l + index * slot + (slot - bar) / 2
        h = count / max_value * plot_h if count else 0
        y = height - pad_b - h
        parts.append(
            f"<g><title>{escape(label)}: {count} decision{'s' if count != 1 else ''}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="#2563eb" rx="2"/>'
            f'<rect x="{x:.1f}" y="{top}" width="{bar:.1f}" height="{plot_h}" fill="transparent"/></g>'
        )
        if count:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" class="vlabel" text-anchor="middle">{count}</text>'
            )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{height - 7}" class="xlabel" text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - values escaped above


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]
