"""The approval countdown: its states (amber under 25 % of the window, red under 10 %) and its label."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from approvals.countdown import DeadlineState, order_countdown
from approvals.order_records import order_from_plain

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _order(*, left: float | None, window: int | None = 1000, created_ago: float | None = None):
    plain = {"status": "pending_approval"}
    if left is not None:
        plain["approvalDeadline"] = (NOW + timedelta(seconds=left)).isoformat()
    if window is not None:
        plain["approvalTimeoutSeconds"] = window
    if created_ago is not None:
        plain["createdAt"] = (NOW - timedelta(seconds=created_ago)).isoformat()
    return order_from_plain(plain)


@pytest.mark.parametrize(
    ("left", "state"),
    [
        (900, "ok"),
        (260, "ok"),
        (250, "ok"),
        (249, "amber"),
        (101, "amber"),
        (100, "amber"),
        (99, "red"),
        (1, "red"),
        (0.2, "red"),
        (0, "expired"),
        (-50, "expired"),
    ],
)
def test_states(left, state):
    assert order_countdown(_order(left=left), now=NOW).state == state


def test_no_deadline_is_unknown():
    countdown = order_countdown(_order(left=None), now=NOW)
    assert countdown.state == DeadlineState.UNKNOWN and countdown.label == "—"
    assert countdown.fraction_left is None and countdown.window_seconds is None


def test_expired():
    countdown = order_countdown(_order(left=-5), now=NOW)
    assert (countdown.state, countdown.label, countdown.fraction_left) == (DeadlineState.EXPIRED, "expired", 0.0)
    assert countdown.window_seconds == 1000


def test_window_from_created_at_when_the_timeout_is_not_stored():
    countdown = order_countdown(_order(left=50, window=None, created_ago=950), now=NOW)
    assert countdown.window_seconds == 1000 and countdown.fraction_left == pytest.approx(0.05)
    assert countdown.state == DeadlineState.RED


def test_without_any_window_it_is_ok_until_the_deadline():
    countdown = order_countdown(_order(left=5, window=None), now=NOW)
    assert countdown.state == DeadlineState.OK and countdown.fraction_left is None


def test_fraction_is_capped_at_the_whole_window():
    assert order_countdown(_order(left=5000, window=1000), now=NOW).fraction_left == 1.0


@pytest.mark.parametrize(
    ("left", "label"),
    [
        (0.2, "1 s"),
        (1, "1 s"),
        (7.5, "8 s"),
        (42, "42 s"),
        (59.01, "1 m"),
        (192, "3 m 12 s"),
        (180, "3 m"),
        (2 * 3600 + 59 * 60, "2 h 59 m"),
        (7200, "2 h"),
        (2 * 86400 + 4 * 3600, "2 d 4 h"),
    ],
)
def test_label_is_the_one_duration_format_of_whole_seconds_rounded_up(left, label):
    countdown = order_countdown(_order(left=left, window=10 * 86400), now=NOW)
    assert countdown.label == label


def test_the_page_script_follows_the_same_rules():
    """static/js/approvals.js re-labels countdowns in the browser: same units, same rounding, same states."""
    script = (Path(__file__).resolve().parents[2] / "static" / "js" / "approvals.js").read_text()
    assert "Math.ceil(seconds)" in script
    for unit in ('" s"', '" m "', '" h "', '" d "'):
        assert unit in script
    assert 'fraction < 0.10 ? "red" : fraction < 0.25 ? "amber" : "ok"' in script
