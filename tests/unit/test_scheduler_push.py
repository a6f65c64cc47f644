"""executions.scheduler with push: the repair poll of executions that report themselves, and what a report does."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from executions.scheduler import (
    ACTIVE,
    FINISHING,
    IDLE,
    NEW,
    PUSHED,
    PUSHED_IDLE,
    REPAIR_SHARE,
    PollConfig,
    poll_plan,
    push_received_plan,
    pushed_idle_seconds,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CONFIG = PollConfig(active=2, idle_base=10, cap=300, timer_grace=0.5, pushed_idle=900)


def plan(**kwargs):
    defaults = dict(
        now=NOW,
        terminal=False,
        history_complete=False,
        changed=False,
        timers=[],
        idle_open=False,
        previous_backoff=0,
        config=CONFIG,
        pushed=True,
    )
    return poll_plan(**{**defaults, **kwargs})


def test_a_pushing_execution_is_polled_only_by_the_repair_poll():
    result = plan(idle_open=True, previous_backoff=40)
    assert (result.next_poll_at, result.priority, result.reason) == (NOW + timedelta(seconds=900), IDLE, PUSHED_IDLE)
    assert result.backoff_seconds == 40  # the push schedule leaves the backoff alone


def test_a_pushing_execution_is_not_polled_at_its_wait_end():
    result = plan(timers=[NOW + timedelta(minutes=5)])
    assert (result.next_poll_at, result.reason) == (NOW + timedelta(seconds=900), PUSHED_IDLE)
    overdue = plan(timers=[NOW - timedelta(minutes=1)])
    assert overdue.next_poll_at == NOW + timedelta(seconds=900)


def test_a_change_after_the_invocation_suspended_waits_for_the_next_report():
    result = plan(changed=True, suspended=True, idle_open=True)
    assert (result.next_poll_at, result.reason) == (NOW + timedelta(seconds=900), PUSHED_IDLE)


def test_a_change_while_the_invocation_runs_is_polled_again_soon():
    result = plan(changed=True, suspended=False)
    assert (result.next_poll_at, result.priority) == (NOW + timedelta(seconds=2), ACTIVE)


def test_pushed_does_not_change_a_finished_execution():
    assert plan(terminal=True, history_complete=True).next_poll_at is None
    result = plan(terminal=True)
    assert (result.next_poll_at, result.priority) == (NOW, FINISHING)


def test_not_pushed_keeps_the_timer_and_backoff_schedule():
    end = NOW + timedelta(minutes=5)
    assert plan(pushed=False, timers=[end]).next_poll_at == end + timedelta(seconds=0.5)
    assert plan(pushed=False, idle_open=True, previous_backoff=40).next_poll_at == NOW + timedelta(seconds=80)


def test_the_repair_poll_interval_comes_from_the_config():
    config = PollConfig(active=2, idle_base=10, cap=300, timer_grace=0.5, pushed_idle=2700)
    assert plan(config=config).next_poll_at == NOW + timedelta(seconds=2700)


def test_the_config_reads_the_repair_poll_interval_from_settings():
    with override_settings(POLL_PUSHED_IDLE_SECONDS=1234):
        assert PollConfig.from_settings().pushed_idle == 1234


def test_a_report_makes_the_execution_due_at_once():
    result = push_received_plan(now=NOW, next_poll_at=NOW + timedelta(seconds=900))
    assert (result.next_poll_at, result.priority, result.reason, result.backoff_seconds) == (NOW, NEW, PUSHED, 0)
    assert push_received_plan(now=NOW).next_poll_at == NOW


def test_reports_waiting_for_the_same_fetch_share_it():
    due = NOW - timedelta(seconds=30)
    first = push_received_plan(now=due, next_poll_at=due + timedelta(seconds=900))
    second = push_received_plan(now=NOW, next_poll_at=first.next_poll_at)
    assert second.next_poll_at == due  # still one fetch, and it keeps its place among the most overdue
    assert second.priority == NEW


def test_the_repair_interval_is_the_floor_while_the_budget_share_can_sweep_every_pushing_execution():
    assert pushed_idle_seconds(pushing=0, rate=10, floor=900) == 900
    assert pushed_idle_seconds(pushing=2000, rate=10, floor=900) == 900  # 2000 / 900 s = 2.2 calls/s < 10 / 3
    assert pushed_idle_seconds(pushing=10_000, rate=50, floor=900) == 900  # a bigger budget sweeps them in time


def test_the_repair_interval_stretches_to_what_the_budget_share_can_sweep():
    assert pushed_idle_seconds(pushing=10_000, rate=10, floor=900) == pytest.approx(3000)  # 10,000 / (10 x 1/3)
    assert pushed_idle_seconds(pushing=10_000, rate=10, floor=900, share=0.5) == pytest.approx(2000)
    assert pushed_idle_seconds(pushing=20_000, rate=10, floor=900) == pytest.approx(6000)  # linear in the count
    assert pushed_idle_seconds(pushing=10_000, rate=10, floor=4000) == 4000  # a higher floor still wins


@pytest.mark.parametrize("pushing", [0, 1, 2999, 3000, 3001, 10_000, 1_000_000])
@pytest.mark.parametrize("rate", [0.5, 10, 100])
def test_the_repair_sweep_takes_at_most_its_share_of_the_budget(pushing, rate):
    interval = pushed_idle_seconds(pushing=pushing, rate=rate, floor=900)
    assert interval >= 900
    assert pushing / interval <= rate * REPAIR_SHARE * (1 + 1e-9)
    if interval > 900:  # stretched no further than needed
        assert pushing / interval == pytest.approx(rate * REPAIR_SHARE)


def test_the_repair_interval_guards_its_inputs():
    assert pushed_idle_seconds(pushing=-5, rate=10, floor=900) == 900
    assert pushed_idle_seconds(pushing=100, rate=0, floor=900) == pytest.approx(3000)  # the governor's 0.1 calls/s
    with pytest.raises(ValueError):
        pushed_idle_seconds(pushing=100, rate=10, floor=900, share=0)
    assert 0 < REPAIR_SHARE < 1


def test_the_config_stretches_the_repair_interval_for_the_pushing_executions():
    with override_settings(POLL_PUSHED_IDLE_SECONDS=900, DURABLE_API_MAX_RPS=10.0):
        assert PollConfig.from_settings().pushed_idle == 900
        assert PollConfig.from_settings(pushing=2000).pushed_idle == 900
        config = PollConfig.from_settings(pushing=10_000)
    assert config.pushed_idle == pytest.approx(3000)
    assert plan(config=config).next_poll_at == NOW + timedelta(seconds=config.pushed_idle)
    assert plan(config=config).reason == PUSHED_IDLE
    running = plan(config=config, changed=True, suspended=False)  # the ACTIVE re-poll does not stretch
    assert (running.next_poll_at, running.priority) == (NOW + timedelta(seconds=config.active), ACTIVE)
