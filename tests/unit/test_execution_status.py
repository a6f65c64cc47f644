"""executions.statuses: the status type owns the terminal set; statuses stay an open set."""

from executions.statuses import (
    LISTED_STATUSES,
    OPEN_OPERATION_STATUSES,
    TERMINAL_OPERATION_STATUSES,
    TERMINAL_STATUSES,
    ActionKind,
    ActionOutcome,
    ExecutionStatus,
)


def test_terminal_set():
    assert set(TERMINAL_STATUSES) == {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"}
    for status in TERMINAL_STATUSES:
        assert ExecutionStatus.is_terminal(status)


def test_pausing_paused_deleting_running_and_unknown_are_not_terminal():
    for status in ("RUNNING", "PAUSING", "PAUSED", "DELETING", "SOMETHING_NEW", "", None):
        assert not ExecutionStatus.is_terminal(status)


def test_members_are_the_api_strings():
    assert ExecutionStatus.TIMED_OUT == "TIMED_OUT"
    assert f"{ExecutionStatus.RUNNING}" == "RUNNING"
    # The list filter offers the not-terminal PAUSING, PAUSED and DELETING before any has been seen.
    assert list(LISTED_STATUSES) == [
        "RUNNING", "PAUSING", "PAUSED", "DELETING", "SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"
    ]  # fmt: skip


def test_operation_sets_do_not_overlap():
    assert not OPEN_OPERATION_STATUSES & TERMINAL_OPERATION_STATUSES


def test_action_choices():
    assert ActionKind.STOP == "stop_execution"
    assert ("not_running", "not running") in ActionOutcome.choices
