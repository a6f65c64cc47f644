"""Reads for the execution pages. Only the Django database: pages never call AWS.

One job per module: `freshness` (how recent the poller's copy is), `stats` (finished executions over
time), `listing` (the filtered, keyset-paged list), `triage` (attention, failures, timeouts),
`detail` (one execution, its operations and history pages) and `audit` (the admin-action log).
"""

from executions.selectors.audit import ActionFilters, actions_list
from executions.selectors.detail import (
    HistoryFilters,
    HistoryPage,
    execution_get,
    execution_invocations,
    execution_operations,
    execution_order_id,
    execution_pause_spans,
    history_event_types,
    history_events,
    history_page,
    history_raw_iter,
)
from executions.selectors.freshness import Freshness, FunctionFreshness, freshness_get
from executions.selectors.listing import (
    SORTS,
    ExecutionFilters,
    execution_list,
    executions_filtered,
    function_names,
    statuses_seen,
)
from executions.selectors.stats import executions_by_status_over_time
from executions.selectors.triage import (
    attention_list,
    callback_is_overdue,
    failures_list,
    open_callbacks_query,
    overdue_callbacks,
    timed_out_list,
)

__all__ = [
    "SORTS",
    "ActionFilters",
    "ExecutionFilters",
    "Freshness",
    "FunctionFreshness",
    "HistoryFilters",
    "HistoryPage",
    "actions_list",
    "attention_list",
    "callback_is_overdue",
    "execution_get",
    "execution_invocations",
    "execution_list",
    "execution_operations",
    "execution_order_id",
    "execution_pause_spans",
    "executions_by_status_over_time",
    "executions_filtered",
    "failures_list",
    "freshness_get",
    "function_names",
    "history_event_types",
    "history_events",
    "history_page",
    "history_raw_iter",
    "open_callbacks_query",
    "overdue_callbacks",
    "statuses_seen",
    "timed_out_list",
]
