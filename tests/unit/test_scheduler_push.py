"""executions.scheduler with push: the repair poll of executions that report themselves, and what a report does."""

from datetime import UTC, datetime, timedelta

from django.test import override_settings

from executions.scheduler import (
    ACTIVE,
    FINISHING,
    IDLE,
    NEW,
    PUSHED,
    PUSHED_IDLE,
    PollConfig,
    poll_plan,
    push_received_plan,
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
