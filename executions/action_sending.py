"""How an admin action is sent and confirmed (used by `executions.actions.action_run`).

- `action_send`: one call, one attempt with the interactive timeouts (`core.aws.aws_interactive`), its errors
  mapped to an outcome; an ambiguous failure (read timeout, reset connection, 5xx after the request left) is
  `UNKNOWN`, never guessed; a request that provably never left (no connection) is `FAILED`, nothing changed.
- `execution_resync`: re-read the execution's history right after the action, within the person's deadline.
- `lock_seconds`: the per-target lock outlives the slowest action.
Error texts shown to people are scrubbed of callback ids (`core.audit.secret_scrub`).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.utils import timezone

from core.audit import secret_scrub
from core.aws import aws_interactive, aws_request_never_sent
from executions import durable_api
from executions.governor import BudgetExhausted
from executions.models import Execution, OperatorAction
from executions.statuses import TERMINAL_STATUSES, ActionOutcome, ExecutionStatus
from executions.sync.history import execution_history_sync

logger = logging.getLogger(__name__)

SUCCEEDED, CLOSED, NOT_RUNNING, FAILED, CONFLICT, UNKNOWN = (
    ActionOutcome.SUCCEEDED,
    ActionOutcome.CLOSED,
    ActionOutcome.NOT_RUNNING,
    ActionOutcome.FAILED,
    ActionOutcome.CONFLICT,
    ActionOutcome.UNKNOWN,
)
LOCK_SECONDS = 60


def lock_seconds() -> int:
    """The action lock's TTL: longer than the slowest action (the call, its confirmation and the re-sync at
    the background timeouts, every attempt), so it never expires under a request that is still running."""
    per_call = (settings.AWS_CONNECT_TIMEOUT + settings.AWS_READ_TIMEOUT) * max(1, settings.AWS_MAX_ATTEMPTS)
    slowest = 3 * per_call + settings.DECISION_TIMEOUT_SECONDS + settings.ACTION_RESYNC_SECONDS
    return int(max(LOCK_SECONDS, slowest)) + 10


def execution_resync(
    *, execution_id: int, settle_seconds: float | None = None, deadline: float | None = None
) -> tuple[bool, str]:
    """Re-read one execution's history now; (done, error). The poller catches up if this fails.

    An answered callback resumes the execution in a new invocation a moment later, so
    while it is still running the history is re-read for up to `settle_seconds`, never past `deadline`
    (a `time.monotonic()` value: the person's time budget; no read starts without a whole call's time left).
    """
    settle = settings.ACTION_RESYNC_SECONDS if settle_seconds is None else settle_seconds
    per_call = float(settings.AWS_INTERACTIVE_TIMEOUT_SECONDS)
    stop_at = time.monotonic() + settle
    if deadline is not None:
        stop_at = min(stop_at, deadline - per_call)
    try:
        while True:
            if deadline is not None and time.monotonic() + per_call > deadline:
                return False, "no time left to re-read the history"
            execution_history_sync(execution_id=execution_id)
            status = Execution.objects.filter(pk=execution_id).values_list("status", flat=True).first()
            if status != ExecutionStatus.RUNNING or time.monotonic() >= stop_at:
                break
            time.sleep(0.4)
    except Exception as error:  # the action already happened; report, never 500
        logger.warning("re-sync of execution %s after an admin action failed: %s", execution_id, error)
        return False, str(error) or type(error).__name__
    finally:
        # Whatever happened, the poller looks at this execution first in its next cycle.
        Execution.objects.filter(pk=execution_id).exclude(status__in=TERMINAL_STATUSES).update(
            next_poll_at=timezone.now(), poll_backoff_seconds=0
        )
    return True, ""


UNCONFIRMED = "Sent, not yet confirmed: it will be resolved automatically (the action log shows it pending)."


def action_send(call, audit: OperatorAction, done_message: str, secrets: tuple[str, ...]) -> tuple[str, str, str]:
    """Make the call (one attempt, interactive timeouts): (outcome, error, message); UNKNOWN when ambiguous."""
    try:
        with aws_interactive():
            call(audit)
    except durable_api.CallbackClosed as exc:
        return CLOSED, str(exc), "The callback is no longer open (it timed out or was already answered): nothing to do."
    except (durable_api.ExecutionAlreadyFinished, durable_api.ExecutionNotFound) as exc:
        return NOT_RUNNING, str(exc), "The execution is not running any more: nothing to do."
    except durable_api.ExecutionStateConflict as exc:
        text = secret_scrub(str(exc), *secrets)
        return (
            CONFLICT,
            str(exc),
            f"Lambda refused: the execution's state does not allow this ({text}). Nothing was changed.",
        )
    except BudgetExhausted as exc:
        return (
            FAILED,
            f"BudgetExhausted: {exc}",
            "The shared Lambda API budget is used up right now: nothing was sent; try again in a minute.",
        )
    except durable_api.Throttled as exc:
        return FAILED, str(exc), "Lambda is throttling requests: nothing was changed; try again in a minute."
    except durable_api.DurableApiUnavailable as exc:
        text = secret_scrub(str(exc), *secrets)
        if aws_request_never_sent(exc):
            return FAILED, str(exc), f"Lambda could not be reached, nothing was sent; try again later. ({text})"
        return UNKNOWN, str(exc), f"{UNCONFIRMED} ({text})"
    except durable_api.DurableApiError as exc:
        text = secret_scrub(str(exc), *secrets)
        return FAILED, f"{exc.code}: {exc}" if exc.code else str(exc), f"Lambda refused the request: {text}"
    return SUCCEEDED, "", done_message


RESOLVED_MESSAGES = {
    CLOSED: "The callback had already ended another way: this request did not change it.",
    NOT_RUNNING: "The execution had already ended: this request did not change it.",
    FAILED: "The request did not reach Lambda (the execution shows no change): nothing was changed; try again.",
}
