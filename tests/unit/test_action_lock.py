"""The admin action lock outlives the slowest action (executions.action_sending.lock_seconds).

The lock covers, in `executions.actions.action_run`: the call, its confirmation read and the re-read of the
history (each read starts only while the person's DECISION_TIMEOUT_SECONDS budget lasts). If the lock expired
under a request that is still running, a second submission could send the same action again.
"""

from __future__ import annotations

import pytest

from executions.action_sending import lock_seconds
from executions.governor import INTERACTIVE_MAX_WAIT_SECONDS


def longest_action_seconds(settings) -> float:
    """The longest an action may hold its lock under these settings, counting each call at its worst."""
    background_call = (settings.AWS_CONNECT_TIMEOUT + settings.AWS_READ_TIMEOUT) * max(1, settings.AWS_MAX_ATTEMPTS)
    interactive_call = settings.AWS_INTERACTIVE_TIMEOUT_SECONDS + INTERACTIVE_MAX_WAIT_SECONDS
    call = max(background_call, interactive_call)
    # send + confirmation + the last history read, which may start just before the person's deadline
    return settings.DECISION_TIMEOUT_SECONDS + 3 * call


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # the defaults
        {"AWS_CONNECT_TIMEOUT": 10.0, "AWS_READ_TIMEOUT": 60.0, "AWS_MAX_ATTEMPTS": 5},
        {"DECISION_TIMEOUT_SECONDS": 120.0, "AWS_INTERACTIVE_TIMEOUT_SECONDS": 30.0},
        {"AWS_CONNECT_TIMEOUT": 0.5, "AWS_READ_TIMEOUT": 1.0, "AWS_MAX_ATTEMPTS": 1, "ACTION_RESYNC_SECONDS": 30.0},
    ],
)
def test_the_action_lock_outlives_the_slowest_action(settings, overrides):
    for name, value in overrides.items():
        setattr(settings, name, value)
    longest = longest_action_seconds(settings)
    assert lock_seconds() > longest, (lock_seconds(), longest)
    assert lock_seconds() > settings.ACTION_RESYNC_SECONDS + settings.DECISION_TIMEOUT_SECONDS
