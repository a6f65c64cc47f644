"""Reads for the execution pages. Only the Django database: pages never call AWS.

One job per module: `freshness` (how recent the poller's copy is), `stats` (finished executions over
time), `listing` (the filtered, keyset-paged list), `triage` (attention, failures, timeouts),
`detail` (one execution and its history pages), `operations` (its operations, a bounded number at a
time), `push` (whether it reports itself, its reported states laid over them) and `audit` (the admin-action log).
"""

from executions.selectors.audit import ActionFilters, actions_list
from executions.selectors.detail import (
    HistoryFilters,
    HistoryPage,
    execution_get,
    execution_invocations,
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
from executions.selectors.operations import (
    OffsetPage,
    OperationFilters,
    execution_root,
    group_children_page,
    group_get,
    open_operations,
    operation_choices,
    operation_events,
    operation_get,
    operations_count,
    operations_page,
    timeline_operations,
)
from executions.selectors.outcomes import (
    OrderFacts,
    execution_order_facts,
    execution_outcome,
    order_facts_from,
    outcomes_annotate,
)
from executions.selectors.push import PushState, execution_push_state, execution_pushes, operations_with_pushes
from executions.selectors.stats import executions_by_status_over_time
from executions.selectors.triage import (
    attention_list,
    callback_is_overdue,
    failures_list,
    failures_query,
    open_callbacks_query,
    overdue_callbacks,
    thresholds_words,
    timed_out_list,
    triage_annotate,
    triage_groups,
)

__all__ = [
    "SORTS",
    "ActionFilters",
    "ExecutionFilters",
    "Freshness",
    "FunctionFreshness",
    "HistoryFilters",
    "HistoryPage",
    "OffsetPage",
    "OperationFilters",
    "OrderFacts",
    "PushState",
    "actions_list",
    "attention_list",
    "callback_is_overdue",
    "execution_get",
    "execution_invocations",
    "execution_list",
    "execution_order_facts",
    "execution_order_id",
    "execution_outcome",
    "execution_pause_spans",
    "execution_push_state",
    "execution_pushes",
    "execution_root",
    "executions_by_status_over_time",
    "executions_filtered",
    "failures_list",
    "failures_query",
    "freshness_get",
    "function_names",
    "group_children_page",
    "group_get",
    "history_event_types",
    "history_events",
    "history_page",
    "history_raw_iter",
    "open_callbacks_query",
    "open_operations",
    "operation_choices",
    "operation_events",
    "operation_get",
    "operations_count",
    "operations_page",
    "operations_with_pushes",
    "order_facts_from",
    "outcomes_annotate",
    "overdue_callbacks",
    "statuses_seen",
    "thresholds_words",
    "timed_out_list",
    "timeline_operations",
    "triage_annotate",
    "triage_groups",
]
