"""core.formatting and the `console` template filters: the one duration format, clock times, money, ids."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Engine
from django.utils import timezone

from core import formatting
from core.templatetags import console


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (-5, "0 ms"),
        (0, "0 ms"),
        (0.35, "350 ms"),
        (4.2, "4.2 s"),
        (12, "12 s"),
        (59.4, "59 s"),
        (60, "1 m"),
        (192, "3 m 12 s"),
        (3600, "1 h"),
        (3 * 3600 + 12 * 60, "3 h 12 m"),
        (3 * 3600 + 12 * 60 + 59, "3 h 12 m"),
        (24 * 3600, "1 d"),
        (2 * 86400 + 4 * 3600, "2 d 4 h"),
    ],
)
def test_duration_text(seconds, text):
    assert formatting.duration_text(seconds) == text


def test_ms_text_is_the_duration_of_milliseconds():
    assert formatting.ms_text(None) == ""
    assert formatting.ms_text(350) == "350 ms"
    assert formatting.ms_text(192_000) == "3 m 12 s"


def test_clock_text_today_and_other_days(settings):
    settings.TIME_ZONE = "UTC"
    now = datetime(2025, 11, 28, 14, 30, tzinfo=UTC)
    assert formatting.clock_text(None, now=now) == ""
    assert formatting.clock_text(now - timedelta(minutes=2, seconds=5), now=now) == "14:27:55 UTC"
    assert formatting.clock_text(now - timedelta(hours=2), now=now) == "12:30 UTC"
    assert formatting.clock_text(now - timedelta(days=1), now=now) == "27 Nov, 14:30 UTC"


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "—"), ("", "—"), (1234.5, "1,234.50"), (Decimal("0.1"), "0.10"), ("12", "12.00"), ("n/a", "n/a")],
)
def test_money_text(value, text):
    assert formatting.money_text(value) == text


def test_short_id_and_status_class():
    assert formatting.short_id("0123456789abcdef") == "01234567"
    assert formatting.short_id(None) == ""
    assert formatting.status_class("TIMED_OUT") == "TIMED_OUT"
    assert formatting.status_class('x" onclick="y') == "xonclicky"
    assert formatting.status_class("") == "UNKNOWN"


def test_age_takes_a_datetime_or_seconds():
    assert console.age(None) == ""
    assert console.age("") == ""
    assert console.age(192) == "3 m 12 s"
    assert console.age(timezone.now() - timedelta(hours=3, minutes=12, seconds=5)) == "3 h 12 m"


def test_until_and_is_past():
    assert console.until(None) == ""
    assert console.until(timezone.now() + timedelta(minutes=3, seconds=12.5)) == "3 m 12 s"
    assert console.is_past(timezone.now() - timedelta(seconds=1)) is True
    assert console.is_past(timezone.now() + timedelta(seconds=60)) is False
    assert console.is_past(None) is False


def test_percent_is_clamped():
    assert console.percent(None) == 0
    assert console.percent(0.426) == 43
    assert console.percent(1.7) == 100
    assert console.percent(-0.2) == 0


def test_filters_in_a_template():
    engine = Engine(libraries={"console": "core.templatetags.console"})
    rendered = engine.from_string(
        "{% load console %}{{ d|duration }}|{{ m|ms }}|{{ a|money }}|{{ i|short_id }}|{{ s|statuscss }}"
    ).render(Context({"d": 192, "m": 350, "a": "1234.5", "i": "abcdefghijkl", "s": "RUNNING"}))
    assert rendered == "3 m 12 s|350 ms|1,234.50|abcdefgh|RUNNING"
