"""Keep the Django copy of every durable execution in step with the Lambda durable APIs.

One cycle (`functions_sync`): list each monitored function's executions newest first
down to its watermark (minus an overlap), upsert them, then fetch the histories of
the executions that are due by priority (scheduler.py), within the API budget.

One history sync (`execution_history_sync`) continues from the stored marker (or
from the start, skipping known EventIds, when the marker is gone), stores every
new event exactly once, and commits the history position in the same transaction
as its events, so a worker killed at any point leaves no gap and no duplicate.
Operations, invocations, activity and attention are then derived from the events
(their own position, `derived_event_id`, makes that step resumable too).

The package, one job per module:
- `cycle`: one poll cycle over the monitored functions (list, choose what is due, fetch or dispatch);
- `listing`: a function's executions, newest first down to its watermark, upserted;
- `history`: one execution's new history events, stored exactly once, under the per-execution lock;
- `derive`: operations, invocations and the execution's summary from the stored events;
- `planning`: attention assessment and the next poll time (no API call);
- `importing`: a saved history stored as an imported execution, through the same code.
"""

from executions.sync.cycle import executions_due, fetch_budget, functions_sync, monitored_functions_seed
from executions.sync.derive import execution_derive
from executions.sync.history import (
    HistoryRewritten,
    HistorySyncResult,
    events_store,
    execution_history_sync,
    history_forget,
)
from executions.sync.importing import history_import
from executions.sync.listing import executions_upsert, function_list_sync
from executions.sync.planning import attention_refresh, execution_poll_soon

__all__ = [
    "HistoryRewritten",
    "HistorySyncResult",
    "attention_refresh",
    "events_store",
    "execution_derive",
    "execution_history_sync",
    "execution_poll_soon",
    "executions_due",
    "executions_upsert",
    "fetch_budget",
    "function_list_sync",
    "functions_sync",
    "history_forget",
    "history_import",
    "monitored_functions_seed",
]
