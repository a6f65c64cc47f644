"""core.time: the one timestamp parser, and ISO text for JSON."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.time import timestamp_iso, timestamp_parse

MOMENT = datetime(2025, 11, 28, 14, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2025-11-28T14:05:06Z",
        "2025-11-28T14:05:06+00:00",
        "2025-11-28T15:05:06+01:00",
        "2025-11-28T14:05:06",  # naive text is UTC
        " 2025-11-28T14:05:06Z ",
        MOMENT.timestamp(),  # epoch seconds
        int(MOMENT.timestamp() * 1000),  # epoch milliseconds (the CLI may print either)
        str(MOMENT.timestamp()),
        str(int(MOMENT.timestamp() * 1000)),
        MOMENT,
        MOMENT.replace(tzinfo=None),  # a naive datetime is UTC
    ],
)
def test_every_form_gives_the_same_aware_moment(value):
    parsed = timestamp_parse(value)
    assert parsed == MOMENT
    assert parsed.tzinfo is not None


def test_an_aware_datetime_keeps_its_zone():
    moment = datetime(2025, 11, 28, 15, 5, 6, tzinfo=timezone(timedelta(hours=1)))
    assert timestamp_parse(moment) is moment


def test_fractional_seconds_are_kept():
    assert timestamp_parse("2025-11-28T14:05:06.250Z") == MOMENT + timedelta(milliseconds=250)
    assert timestamp_parse(MOMENT.timestamp() * 1000 + 250) == MOMENT + timedelta(milliseconds=250)


@pytest.mark.parametrize(
    "value", [None, "", "   ", "yesterday", "2025-13-45T99:00:00Z", True, False, [], {}, object(), 1e300, float("nan")]
)
def test_unreadable_values_are_none_never_an_exception(value):
    assert timestamp_parse(value) is None


def test_timestamp_iso():
    assert timestamp_iso(None) is None
    assert timestamp_iso(MOMENT) == "2025-11-28T14:05:06+00:00"
    assert timestamp_parse(timestamp_iso(MOMENT)) == MOMENT
