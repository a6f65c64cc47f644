"""executions.scheduler: the next poll time and the cycle's choice of due executions."""

from datetime import UTC, datetime, timedelta

from executions.scheduler import ACTIVE, FINISHING, IDLE, TIMER, PollConfig, due_select, overdue_reserve, poll_plan

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CONFIG = PollConfig(active=2, idle_base=10, cap=300, timer_grace=0.5)


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
    )
    return poll_plan(**{**defaults, **kwargs})


def test_finished_and_complete_is_never_polled_again():
    result = plan(terminal=True, history_complete=True)
    assert result.next_poll_at is None and result.reason == "done"


def test_finished_but_incomplete_is_polled_at_once():
    result = plan(terminal=True)
    assert (result.next_poll_at, result.priority) == (NOW, FINISHING)


def test_a_change_polls_again_soon():
    result = plan(changed=True)
    assert (result.next_poll_at, result.priority) == (NOW + timedelta(seconds=2), ACTIVE)


def test_idle_backs_off_up_to_the_cap():
    assert plan(idle_open=True).next_poll_at == NOW + timedelta(seconds=10)
    assert plan(idle_open=True, previous_backoff=40).backoff_seconds == 80
    assert plan(idle_open=True, previous_backoff=1000).backoff_seconds == 300
    assert plan(idle_open=True).priority == IDLE


def test_a_wait_is_polled_at_its_end():
    end = NOW + timedelta(minutes=5)
    result = plan(timers=[end])
    assert (result.next_poll_at, result.priority) == (end + timedelta(seconds=0.5), TIMER)


def test_due_select_reserves_a_share_for_the_most_overdue():
    reserve = overdue_reserve(10)
    assert 0 < reserve <= 10
    chosen = due_select(by_priority=list(range(100)), by_lateness=[99, 98, 97, 96, 95], limit=10)
    assert len(chosen) == 10
    assert 99 in chosen
    assert chosen[: 10 - reserve] == list(range(10 - reserve))


def test_due_select_with_few_due():
    assert sorted(due_select(by_priority=[1, 2], by_lateness=[2], limit=10)) == [1, 2]
